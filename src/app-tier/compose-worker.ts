/**
 * One app-tier worker, wired: its clients, models, collections, tasks, consumers, probes and, on EC2 or in the
 * local fleet, its place there. Loads the models, runs each once, reads the gallery, and only then takes
 * requests; `stop` finishes what it holds. Its GET /readyz (WORKER_HEALTH_PORT) answers 503 until it is ready.
 */
import { createDynamoClient, createS3Client, createSqsClient } from '../shared/aws/clients.js';
import { availableParallelism, hostname } from 'node:os';
import { createLogger } from '../shared/logger.js';
import { MODEL_FILES } from '../shared/models.js';
import { FleetRegistry, isAlive } from '../shared/fleet-registry.js';
import { resolveQueueUrls } from '../shared/aws/resources.js';
import { DEFAULT_COLLECTION } from '../shared/collections/manifest.js';
import { IndexSnapshots } from '../shared/collections/index-snapshots.js';
import { CollectionRepository } from '../shared/collections/repository.js';
import { CollectionCache } from './tasks/collection-cache.js';
import { matchThresholdFor } from './recognition/face-matcher.js';
import { startHealthServer } from './health-server.js';
import { loadEngine } from './recognition/engine.js';
import { ReplyQueueUrls } from './reply-queue-directory.js';
import { WAKE_SIGNAL } from '../autoscaler/local-fleet.js';
import { QueueConsumer } from './queue-consumer.js';
import { RequestHandler } from './request-handler.js';
import { enrollTask } from './tasks/enroll/enroll-task.js';
import { WorkerMetrics } from './worker-metrics.js';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { InstanceLifecycle, instanceMetadata } from './instance-lifecycle.js';
import { recognizeTask } from './tasks/recognize/recognize-task.js';
import { videoRequestTask, videoTask } from './tasks/video/video-task.js';
import { imageTask } from './tasks/task.js';
import { findTool, VideoToolError } from '../shared/video/tools.js';
import { StudentTable } from '../shared/video/student-table.js';
import type { Config } from '../shared/config/config.js';
import type { Started } from '../shared/process.js';

/** Where an instance's workers share their state (the app-tier unit's RuntimeDirectory). */
const INSTANCE_RUNTIME_DIR = '/run/facefleet';

export async function composeWorker(config: Config): Promise<Started> {
  const workerId = config.worker.id ?? `${hostname()}-${process.pid}`;
  const logger = createLogger(config, { tier: 'app', workerId });
  const s3 = createS3Client(config);
  const sqs = createSqsClient(config);
  const pollSqs = createSqsClient(config);
  const videoPollSqs = createSqsClient(config);
  let waitingFor = (): string | undefined => 'loading and warming up the recognition models.';
  let warmUpMs = 0;
  // Filled in as the worker comes up; its metrics and probes answer from the start.
  const parts: {
    galleries?: CollectionCache;
    consumer?: { readonly holding: number; readonly received: number; readonly busyMs: number };
  } = {};
  const metrics = new WorkerMetrics({
    holding: () => parts.consumer?.holding ?? 0,
    ready: () => waitingFor() === undefined,
    gallery: () => parts.galleries?.peek(DEFAULT_COLLECTION),
    collections: () => parts.galleries?.summary() ?? [],
  });
  // A worker of the local fleet shares the machine with others: its probes listen on loopback only.
  const local = config.fleet.ownerPid !== undefined;
  const health =
    config.worker.healthPort === undefined
      ? undefined
      : await startHealthServer(
          config.worker.healthPort,
          local ? '127.0.0.1' : undefined,
          {
            waitingFor: () => waitingFor(),
            details: () => ({
              workerId,
              galleryVersion: parts.galleries?.peek(DEFAULT_COLLECTION)?.version ?? null,
              collections: parts.galleries?.summary() ?? [],
              warmUpMs,
            }),
          },
          metrics.registry,
        );
  if (health) logger.info({ port: health.port }, 'health probes listening (GET /healthz, /readyz, /metrics)');

  const started = performance.now();
  const [engine, queues] = await Promise.all([loadEngine(config.recognition), resolveQueueUrls(config, sqs)]);
  await engine.warmUp();
  warmUpMs = Math.round(performance.now() - started);
  waitingFor = () => 'reading the gallery from S3.';
  const repository = new CollectionRepository(s3, config.resources.galleryBucket, MODEL_FILES.embedder.sha256);
  const store = new CollectionCache(repository, logger, {
    maxFaces: config.worker.galleryMaxFacesInMemory,
    indexMinFaces: config.worker.galleryIndexMinFaces,
    // An index is built when a collection is loaded, before its requests are answered: every core helps.
    indexThreads: availableParallelism(),
    snapshots: new IndexSnapshots(s3, config.resources.galleryBucket),
  });
  parts.galleries = store;
  await store.start(config.worker.galleryRefreshSeconds, DEFAULT_COLLECTION);
  // A worker whose first gallery read failed still starts (it keeps trying, and answers errors meanwhile),
  // but is not ready until S3 has answered.
  waitingFor = () => (store.ready ? undefined : 'the gallery could not be read from S3 yet; retrying.');
  const videoTools = (() => {
    try {
      const tools = {
        ffmpeg: findTool('ffmpeg', config.video.ffmpegPath),
        ffprobe: findTool('ffprobe', config.video.ffprobePath),
      };
      const packaged = Object.values(tools).some((t) => t.source === 'packaged');
      (packaged ? logger.warn : logger.info).call(
        logger,
        { ffmpeg: tools.ffmpeg, ffprobe: tools.ffprobe },
        packaged
          ? 'videos are decoded with the npm build of ffmpeg/ffprobe (old, no security fixes): install the system’s'
          : 'videos are decoded with these tools',
      );
      return tools;
    } catch (err) {
      if (!(err instanceof VideoToolError)) throw err;
      logger.warn({ err: err.message }, 'videos will be refused: no ffmpeg/ffprobe');
      return err;
    }
  })();
  const dynamodb = createDynamoClient(config);
  const students = new StudentTable(dynamodb, config.resources.studentsTable);
  const handler = new RequestHandler({
    workerId,
    s3,
    inBucket: config.resources.inBucket,
    outBucket: config.resources.outBucket,
    tasks: {
      recognize: imageTask(
        recognizeTask({
          engine,
          galleries: store,
          matchThreshold: (people) => matchThresholdFor(config.matching, people),
          maxFaces: config.matching.maxFaces,
        }),
      ),
      enroll: imageTask(enrollTask(engine, store)),
      video: videoRequestTask(
        videoTask({
          engine,
          galleries: store,
          matchThreshold: (people) => matchThresholdFor(config.matching, people),
          maxFaces: config.matching.maxFaces,
          tools: videoTools,
          limits: config.video,
          frameSeconds: config.video.frameSeconds,
          maxFrames: config.video.maxFrames,
          decodeTimeoutMs: config.video.decodeTimeoutSeconds * 1000,
          toolMemoryBytes: config.video.toolMemoryBytes,
          students: (names) => students.lookup(names),
        }),
        config.video.maxBytes,
      ),
    },
    logger,
    replyNames: config.resources,
    onHandled: (task, timings) => metrics.handled(task, timings),
  });
  // Requests from web processes with queues of their own name them (reply-queues.ts).
  const replyQueues = new ReplyQueueUrls(sqs, logger);
  const consumerOf = (queueUrl: string, poll: typeof pollSqs, batchSize: number) =>
    new QueueConsumer({
      queueUrl,
      replyQueueUrl: queues.response,
      replyQueues,
      pollSqs: poll,
      sqs,
      handler,
      logger,
      batchSize,
      waitTimeSeconds: config.worker.waitTimeSeconds,
      maxReceiveCount: config.queue.maxReceiveCount,
      heartbeat: {
        heartbeatSeconds: config.worker.heartbeatSeconds,
        visibilityTimeoutSeconds: config.queue.visibilityTimeoutSeconds,
      },
      onOutcome: (outcome) => metrics.outcome(outcome),
      onHeartbeat: (extended) => metrics.extended(extended),
    });
  // The request queue, and the video queue (POST /videos, and S3's events of videos put into the bucket), one
  // video at a time: each is long work, and the engine takes the images between its frames.
  const consumers = [
    consumerOf(queues.request, pollSqs, config.worker.batchSize),
    consumerOf(queues.video, videoPollSqs, 1),
  ];
  const worker = {
    get holding() {
      return consumers.reduce((sum, c) => sum + c.holding, 0);
    },
    get received() {
      return consumers.reduce((sum, c) => sum + c.received, 0);
    },
    get busyMs() {
      return consumers.reduce((sum, c) => sum + c.busyMs, 0);
    },
    start: () => consumers.forEach((c) => c.start()),
    stop: async () => {
      await Promise.all(consumers.map((c) => c.stop()));
    },
  };
  parts.consumer = worker;
  if (config.worker.warm) {
    // Warm (the local fleet's pool): ready, taking no messages, until the fleet wakes it. The handler is set
    // before the worker says it is ready, so that the signal never finds it without one.
    process.once(WAKE_SIGNAL, () => {
      logger.info('woken: taking messages');
      worker.start();
    });
  } else worker.start();
  // In an Auto Scaling group: protect the instance while busy, drain when it leaves service.
  let instanceIdOnce: Promise<string> | undefined;
  const lifecycle =
    config.worker.group === undefined
      ? undefined
      : new InstanceLifecycle({
          autoscaling: new AutoScalingClient({ region: config.aws.region }),
          groupName: config.worker.group,
          hookName: config.fleet.group.terminationHook,
          hookTimeoutSeconds: config.fleet.group.hookTimeoutSeconds,
          launchHookName: config.fleet.group.launchHook,
          // The lifecycle starts once this worker is ready (below): by then it is.
          ready: () => waitingFor() === undefined,
          workerId,
          dir: INSTANCE_RUNTIME_DIR,
          // An instance's id never changes: asked once, when first needed.
          instanceId: async () => {
            instanceIdOnce ??= instanceMetadata('instance-id').then((id) => {
              if (id) return id;
              instanceIdOnce = undefined;
              throw new Error('the instance metadata service does not say this instance’s id');
            });
            return instanceIdOnce;
          },
          targetLifecycleState: () => instanceMetadata('autoscaling/target-lifecycle-state'),
          holding: () => worker.holding,
          drain: () => worker.stop(),
          logger,
        });
  lifecycle?.start();
  logger.info(
    {
      warmUpMs,
      galleryVersion: store.peek(DEFAULT_COLLECTION)?.version,
      faces: store.peek(DEFAULT_COLLECTION)?.size ?? 0,
    },
    'worker ready',
  );
  // A worker of the local fleet says it is ready in the fleet's registry, and stops once the stack that
  // started it is gone, whatever happened to the autoscaler in between.
  const { ownerPid } = config.fleet;
  const registry = ownerPid === undefined ? undefined : new FleetRegistry(config.fleet.dir);
  const localFleet =
    ownerPid === undefined || !registry
      ? undefined
      : {
          registry,
          ownerWatch: setInterval(() => {
            if (!isAlive(ownerPid)) process.kill(process.pid, 'SIGTERM');
          }, 1000).unref(),
          // The liveness signal: a frozen worker, or one whose event loop is stuck, stops giving it.
          heartbeat: setInterval(
            () =>
              registry.heartbeat(workerId, {
                holding: parts.consumer?.holding ?? 0,
                received: parts.consumer?.received ?? 0,
                busyMs: Math.round(parts.consumer?.busyMs ?? 0),
              }),
            1000,
          ).unref(),
        };
  localFleet?.registry.heartbeat(workerId, { holding: 0, received: 0, busyMs: 0 });
  localFleet?.registry.markReady(workerId, health && { metricsUrl: `http://127.0.0.1:${health.port}/metrics` });
  return {
    logger,
    async stop() {
      clearInterval(localFleet?.ownerWatch);
      clearInterval(localFleet?.heartbeat);
      await worker.stop();
      await lifecycle?.stop();
      await store.stop();
      await engine.close();
      await health?.close();
      for (const c of [s3, sqs, pollSqs, videoPollSqs, dynamodb]) c.destroy();
      localFleet?.registry.remove(workerId);
      logger.info('worker stopped');
    },
  };
}
