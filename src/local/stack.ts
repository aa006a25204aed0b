/**
 * The whole system on one machine: the embedded S3+SQS emulator, the buckets and queues, the autoscaler (a
 * child process, restarted if it dies) with the local fleet of worker processes, and the web tier, all with
 * the same code that runs on AWS.
 *
 * Everything it is given is kept in the data directory (DATA_DIR): after a stop, or a kill -9 of every
 * process, the next start has the same gallery, objects and queued messages, and answers what was queued.
 */
import { randomBytes } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createS3Client, createSqsClient } from '../shared/aws/clients.js';
import { childEnvironment, loadConfig, type Config } from '../shared/config/config.js';
import { dataDirLayout } from '../shared/config/data-dir.js';
import { DEFAULT_COLLECTION } from '../shared/collections/manifest.js';
import { migrateGalleryDocument } from '../shared/collections/migration.js';
import { CollectionRepository } from '../shared/collections/repository.js';
import type { Logger } from '../shared/logger.js';
import { MODEL_FILES } from '../shared/models.js';
import {
  ensureResources,
  queueDepth,
  retentionRules,
  type QueueDepth,
  type QueueUrls,
} from '../shared/aws/resources.js';
import { LocalFleet } from '../autoscaler/local-fleet.js';
import { startWebTier, type RunningWebTier } from '../web-tier/server.js';
import { WebProcessGroup } from '../web-tier/process/web-processes.js';
import { AutoscalerProcess } from './autoscaler-process.js';
import { emptyDataDir, holdDataDir } from './data-dir.js';
import { EmulatorProcess } from './emulator-process.js';
import { ensureStudentTable } from '../shared/video/student-table.js';
import { createDynamoClient } from '../shared/aws/clients.js';
import { MonitorProcess } from './monitor-process.js';
import { RetentionSweeper } from './retention-sweeper.js';
import { localApiKey, type LocalApiKey } from './api-key-file.js';

export interface LocalStack {
  readonly config: Config;
  readonly emulator: EmulatorProcess;
  readonly queues: QueueUrls;
  /** The workers, seen through the same registry the autoscaler uses (for inspection and shutdown). */
  readonly fleet: LocalFleet;
  readonly autoscaler: AutoscalerProcess;
  readonly monitor: MonitorProcess;
  readonly web: FrontDoor;
  /** What the stack found when it started: people enrolled, requests waiting. */
  readonly found: Found;
  /** The key the stack made or kept in its data directory, when none was given (`makeApiKey`). */
  readonly localApiKey?: LocalApiKey;
  stop(): Promise<void>;
}

/** The web tier: one process, this one (WEB_PROCESSES=1), or a group of child processes on one port. */
export interface FrontDoor {
  readonly url: string;
  readonly port: number;
  /** The web tier in this process, with one web process. */
  readonly inProcess?: RunningWebTier;
  /** The web processes, with more than one. */
  readonly group?: WebProcessGroup;
  /** The pids of the processes that take requests. */
  pids(): number[];
  stop(): Promise<void>;
}

export interface Found {
  /** People in the stored gallery; 0 when there is none, or it cannot be used (the reason is logged). */
  readonly people: number;
  readonly galleryVersion: number;
  /** Request messages waiting (visible) and held by a worker that may be gone (in flight) at start. */
  readonly requests: QueueDepth;
  /** Results waiting for a web tier (an earlier one's, if it stopped before they arrived). */
  readonly results: number;
}

export interface LocalStackOptions {
  /** Empty the data directory first (`npm start -- --fresh`). */
  readonly fresh?: boolean;
  /** Told if the emulator keeps dying and is given up; the caller should stop. */
  readonly onEmulatorLost?: (err: Error) => void;
  /** Without an API_KEY, make one (or use the one kept in the data directory): `npm start` does. */
  readonly makeApiKey?: boolean;
}

/** Starts every part. */
export async function startLocalStack(
  base: Config,
  logger: Logger,
  options: LocalStackOptions = {},
): Promise<LocalStack> {
  if (base.stack !== 'local') {
    throw new Error('npm start runs the local stack; with FACEFLEET_STACK=aws start each tier with its own main.');
  }
  if (base.fleet.driver !== 'local') throw new Error('npm start runs workers locally; unset FLEET_DRIVER.');
  const layout = dataDirLayout(base.dataDir);
  const hold = holdDataDir(layout);
  const started: { stop(): Promise<void> }[] = [{ stop: async () => hold.release() }];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop();
  };
  try {
    if (hold.crashed) {
      logger.warn(
        { dataDir: layout.root, previous: hold.crashed },
        'the stack that used this data directory before did not stop (killed?); recovering what it kept',
      );
    }
    const stopGraceMs = base.shutdownGraceSeconds * 1000;
    // Workers belong to this process: they stop when it is gone, whatever happens to the autoscaler.
    const fleet = new LocalFleet({ dir: base.fleet.dir, logger, ownerPid: process.pid, stopGraceMs });
    // Workers left by an earlier stack of this directory that died outright: stop them before we start.
    await fleet.close();
    if (options.fresh) {
      logger.info({ dataDir: layout.root, deleted: emptyDataDir(layout) }, '--fresh: the data directory was emptied');
    }
    const env = { DATA_DIR: layout.root, FLEET_DIR: base.fleet.dir };
    const localKey =
      options.makeApiKey && base.enrollment.apiKey === undefined ? localApiKey(layout.apiKey) : undefined;
    const emulator = await EmulatorProcess.start({
      port: base.emulator.port,
      dynamodbPort: base.dynamodb.port,
      env,
      stopGraceMs,
      logger,
      onGiveUp:
        options.onEmulatorLost ??
        ((err) =>
          logger.error({ err }, 'the S3+SQS emulator keeps dying and is not started again; requests will fail')),
    });
    started.push(emulator);
    // Re-derive the config so that every part, and every child process, uses the emulator's actual port.
    const overrides = {
      ...env,
      AWS_ENDPOINT_URL: emulator.endpoint,
      EMULATOR_PORT: String(emulator.port),
      DYNAMODB_ENDPOINT_URL: emulator.dynamodbEndpoint,
      FLEET_OWNER_PID: String(process.pid),
      // Only the web tier's processes see it: childEnvironment drops it for every other part.
      ...(localKey ? { API_KEY: localKey.key } : {}),
      // The web tier's and the monitor's alone, new each start: the monitor believes a forwarded address only
      // with it.
      MONITOR_FORWARD_TOKEN: base.monitor.forwardToken ?? randomBytes(24).toString('base64url'),
    };
    const config = loadConfig(childEnvironment(overrides, { keepSecrets: true }));
    const s3 = createS3Client(config);
    const sqs = createSqsClient(config);
    const queues = await ensureResources(config, s3, sqs);
    const dynamodb = createDynamoClient(config);
    await ensureStudentTable(dynamodb, config.resources.studentsTable);
    dynamodb.destroy();
    const found = await look(config, s3, sqs, queues, logger);
    sqs.destroy();
    // The emulator has no lifecycle rules: this process applies the retention that S3 applies on AWS.
    const days = config.retention.days;
    const sweeper =
      days === undefined
        ? undefined
        : new RetentionSweeper({ s3, rules: retentionRules(config.resources), maxAgeMs: days * 86_400_000, logger });
    sweeper?.start();
    started.push({
      stop: async () => {
        await sweeper?.stop();
        s3.destroy();
      },
    });
    logger.info(
      {
        endpoint: emulator.endpoint,
        dynamodb: emulator.dynamodbEndpoint,
        dataDir: layout.root,
        resources: config.resources,
      },
      'emulator ready',
    );
    if (found.requests.visible + found.requests.inFlight + found.results > 0) {
      logger.info(
        { ...found.requests, results: found.results },
        'requests kept from the last run are answered as workers start (those a worker held come back after ' +
          `the visibility timeout, ${config.queue.visibilityTimeoutSeconds} s); their labels go to ` +
          `${config.resources.outBucket}, and results whose HTTP request is gone are logged and consumed`,
      );
    }

    started.push({ stop: () => fleet.close() });
    const autoscaler = new AutoscalerProcess({ env: overrides, logger, stopGraceMs });
    started.push(autoscaler);
    await autoscaler.start();
    const monitor = new MonitorProcess({ env: overrides, logger, stopGraceMs });
    started.push(monitor);
    await monitor.start();
    const web = await startFrontDoor(config, logger, queues, overrides, autoscaler, monitor);
    started.push(web);
    hold.announce({
      webUrl: web.url,
      emulatorEndpoint: emulator.endpoint,
      dynamodbEndpoint: emulator.dynamodbEndpoint,
      ...(monitor.url ? { monitorUrl: monitor.url } : {}),
      resourcePrefix: config.resources.prefix,
    });
    return {
      config,
      emulator,
      queues,
      fleet,
      autoscaler,
      monitor,
      web,
      found,
      ...(localKey ? { localApiKey: localKey } : {}),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function startFrontDoor(
  config: Config,
  logger: Logger,
  queues: QueueUrls,
  overrides: Record<string, string>,
  autoscaler: AutoscalerProcess,
  monitor: MonitorProcess,
): Promise<FrontDoor> {
  if (config.web.processes === 1) {
    const web = await startWebTier(config, logger, queues, {
      statusUrl: () => autoscaler.statusUrl,
      monitorUrl: () => config.monitor.url ?? monitor.url,
    });
    return { url: web.url, port: web.port, inProcess: web, pids: () => [process.pid], stop: () => web.stop() };
  }
  const group = await WebProcessGroup.start({
    processes: config.web.processes,
    port: config.web.port,
    env: () => ({
      ...overrides,
      ...(autoscaler.statusUrl ? { AUTOSCALER_STATUS_URL: autoscaler.statusUrl } : {}),
      ...((config.monitor.url ?? monitor.url) ? { MONITOR_URL: (config.monitor.url ?? monitor.url)! } : {}),
    }),
    logger,
    // Each drains for up to SHUTDOWN_GRACE_SECONDS, then deletes its reply queue.
    stopGraceMs: (config.shutdownGraceSeconds + 5) * 1000,
  });
  const host = config.web.host === '0.0.0.0' ? '127.0.0.1' : config.web.host;
  return {
    url: `http://${host}:${group.listeningPort}`,
    port: group.listeningPort,
    group,
    pids: () => group.processes().map((p) => p.pid),
    stop: () => group.stop(),
  };
}

async function look(
  config: Config,
  s3: ReturnType<typeof createS3Client>,
  sqs: SQSClient,
  queues: QueueUrls,
  logger: Logger,
): Promise<Found> {
  const collections = new CollectionRepository(s3, config.resources.galleryBucket, MODEL_FILES.embedder.sha256);
  const embedderSha256 = MODEL_FILES.embedder.sha256;
  const [stored, requests, results] = await Promise.all([
    migrateGalleryDocument({ s3, bucket: config.resources.galleryBucket, collections, embedderSha256, logger })
      .then(() => collections.manifest(DEFAULT_COLLECTION))
      .catch((err: unknown) => {
        logger.warn({ err }, 'the stored gallery cannot be used; enroll again (npm run enroll -- --replace)');
        return undefined;
      }),
    queueDepth(sqs, queues.request),
    queueDepth(sqs, queues.response),
  ]);
  return {
    people: stored?.manifest.people ?? 0,
    galleryVersion: stored?.manifest.version ?? 0,
    requests,
    results: results.visible + results.inFlight,
  };
}
