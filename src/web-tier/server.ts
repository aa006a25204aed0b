/**
 * Starts the web tier: clients, response pollers, the Express app on its port; and stops it gracefully
 * (refuse new uploads, let those in flight get their answers within the grace period, then close).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createS3Client, createSqsClient } from '../shared/aws/clients.js';
import type { Config } from '../shared/config/config.js';
import { CollectionRepository } from '../shared/collections/repository.js';
import { migrateGalleryDocument } from '../shared/collections/migration.js';
import type { Logger } from '../shared/logger.js';
import { MODEL_FILES } from '../shared/models.js';
import type { QueueUrls } from '../shared/aws/resources.js';
import { buildApp } from './app.js';
import { AppTierClient } from './app-tier-client/client.js';
import { RequestSender } from './app-tier-client/request-sender.js';
import { findTool, VideoToolError, type VideoTool } from '../shared/video/tools.js';
import { buildConsole } from './console/console-route.js';
import { rawAnswerHeaders } from './requests/answer-timer.js';
import { answerClientErrors, capConnections, connectionsCheckingIntervalMs } from './requests/client-limits.js';
import { FleetStateWatch, serverStateOf } from './process/fleet-state.js';
import { ResponseRouter } from './app-tier-client/response-router.js';
import { hostname } from 'node:os';
import { newWebId } from '../shared/wire/reply-queues.js';
import { frontDoorTimeouts } from '../shared/config/front-door-timeouts.js';
import { openReplyQueue, ReplyQueueReaper, type ReplyQueue } from './app-tier-client/reply-queue.js';
import { RecentAnswers } from './process/recent-answers.js';
import type { WebTierStatus } from './operations/status-route.js';
import { WebPeers, type WebProcessSnapshot } from './process/web-processes.js';
import { WebMetrics } from './process/web-metrics.js';
import { sweepUnenrolledPhotos } from './people/unenrolled-photos.js';

export interface RunningWebTier {
  readonly url: string;
  /** This process's id (`w1-k3x9qa7b`), which every answer's state header names. */
  readonly webId: string;
  /** Where its results arrive. */
  readonly replyQueue: ReplyQueue;
  readonly reaper: ReplyQueueReaper;
  /** This process's figures, as it passes them to the machine's other web processes. */
  snapshot(): WebProcessSnapshot;
  /** The Express app (its routes are listed by the OpenAPI test). */
  readonly app: Express;
  readonly port: number;
  readonly server: Server;
  readonly router: ResponseRouter;
  stop(): Promise<void>;
}

export interface WebTierOptions {
  /** Where to read the autoscaler's status; default AUTOSCALER_STATUS_URL. */
  readonly statusUrl?: () => string | undefined;
  /** Where /monitoring/ forwards; default MONITOR_URL. */
  readonly monitorUrl?: () => string | undefined;
}

/**
 * With several web processes, each also answers GET /metrics on an address of its own (PORT reaches any one):
 * WEB_METRICS_PORT + index − 1, or a free loopback port locally.
 */
async function startMetricsServer(config: Config, index: number, metrics: WebMetrics): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Only GET /metrics is here.\n');
      return;
    }
    void metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  const port = config.web.metricsPort === undefined ? 0 : config.web.metricsPort + index - 1;
  server.listen(port, config.web.metricsPort === undefined ? '127.0.0.1' : config.web.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
  return server;
}

/** The ffprobe that reads uploaded videos' headers, logged; without one, `POST /videos` answers 503. */
function findVideoProbe(config: Config, logger: Logger): VideoTool | VideoToolError {
  try {
    const ffprobe = findTool('ffprobe', config.video.ffprobePath);
    if (ffprobe.source === 'packaged')
      logger.warn({ ffprobe }, 'video headers are read with the npm build of ffprobe: install the system’s ffmpeg');
    else logger.info({ ffprobe }, 'video headers are read with this ffprobe');
    return ffprobe;
  } catch (err) {
    if (!(err instanceof VideoToolError)) throw err;
    logger.warn({ err: err.message }, 'POST /videos will answer 503: no ffprobe');
    return err;
  }
}

export async function startWebTier(
  config: Config,
  baseLogger: Logger,
  queues: QueueUrls,
  options: WebTierOptions = {},
): Promise<RunningWebTier> {
  const s3 = createS3Client(config);
  const sqs = createSqsClient(config);
  const index = config.web.processIndex ?? 1;
  const webId = newWebId(index);
  const logger = baseLogger.child({ web: webId });
  // The router is made once the reply queue exists; nothing asks what waits before that.
  const waiting = (): number => router.pending;
  let metricsServer: Server | undefined;
  const metricsUrl = () => {
    const address = metricsServer?.address() as AddressInfo | null | undefined;
    if (!address) return undefined;
    const host = address.address === '0.0.0.0' || address.address === '::' ? hostname() : address.address;
    return `http://${host}:${address.port}/metrics`;
  };
  const replyQueue = await openReplyQueue(config, sqs, queues, { webId, waiting, metricsUrl }, logger);
  const pollerClients = Array.from({ length: config.web.responsePollers }, () => createSqsClient(config));
  const router = new ResponseRouter({
    queueUrl: replyQueue.url,
    replyTo: replyQueue.replyTo,
    clients: pollerClients,
    logger,
  });
  router.start();
  // Every web process, even one alone, deletes the queues that processes killed outright left behind.
  const reaper = new ReplyQueueReaper({
    sqs,
    resourcePrefix: config.resources.prefix,
    ownQueue: replyQueue.own ? replyQueue.name : undefined,
    idleSeconds: config.web.replyQueue.idleSeconds,
    logger,
  });
  reaper.start();

  const fleetState = new FleetStateWatch(options.statusUrl ?? (() => config.autoscaler.statusUrl), logger);
  fleetState.start();
  const metrics = new WebMetrics({ waiting, fleet: () => fleetState.current() });
  if (config.web.processes > 1) metricsServer = await startMetricsServer(config, index, metrics);
  const recent = new RecentAnswers();
  const snapshot = (): WebProcessSnapshot => {
    const metrics = metricsUrl();
    return {
      id: webId,
      pid: process.pid,
      index,
      replyQueue: replyQueue.name,
      waiting: waiting(),
      ...(metrics ? { metricsUrl: metrics } : {}),
      answers: recent.window(),
      at: Date.now(),
    };
  };
  const peers = new WebPeers(snapshot, config.web.processIndex !== undefined);
  peers.start();
  const webStatus = (): WebTierStatus => {
    const here = peers.all();
    const known = new Set(here.map((p) => p.id));
    const elsewhere = reaper.processes.filter((p) => !known.has(p.id));
    return {
      answeredBy: webId,
      processes: [...here, ...elsewhere].map(({ id, pid, replyQueue, waiting, metricsUrl, ...p }) => ({
        id,
        pid,
        ...('host' in p ? { host: p.host } : {}),
        replyQueue,
        waiting,
        metricsUrl,
      })),
    };
  };

  const collections = new CollectionRepository(s3, config.resources.galleryBucket, MODEL_FILES.embedder.sha256);
  // A gallery.json of an older version becomes the default collection, once; a failure is tried at next start.
  await migrateGalleryDocument({
    s3,
    bucket: config.resources.galleryBucket,
    collections,
    embedderSha256: MODEL_FILES.embedder.sha256,
    logger,
  }).catch((err: unknown) =>
    logger.error({ err }, 'could not move gallery.json into a collection; tried at next start'),
  );
  let accepting = true;
  // config.web holds the deadlines and caps on what clients send (client-limits.ts).
  const limits = config.web;
  const appTier = new AppTierClient({
    s3,
    requests: new RequestSender(sqs, queues.request),
    videoRequests: new RequestSender(sqs, queues.video),
    router,
    inBucket: config.resources.inBucket,
    resultTimeoutSeconds: config.web.resultTimeoutSeconds,
    logger,
  });
  const app = buildApp({
    appTier,
    logger,
    aws: {
      s3,
      sqs,
      inBucket: config.resources.inBucket,
      outBucket: config.resources.outBucket,
      queueUrls: [queues.request, router.queueUrl],
    },
    maxUploadBytes: config.web.maxUploadBytes,
    maxImagePixels: config.recognition.maxImagePixels,
    resultTimeoutSeconds: config.web.resultTimeoutSeconds,
    isAccepting: () => accepting,
    autoscalerStatusUrl: options.statusUrl ?? (() => config.autoscaler.statusUrl),
    collections,
    apiKey: config.enrollment.apiKey,
    readRequiresKey: config.enrollment.readRequiresKey,
    clientLimits: limits,
    fleetState,
    metrics,
    monitorUrl: options.monitorUrl ?? (() => config.monitor.url),
    monitorForwardToken: config.monitor.forwardToken,
    console: buildConsole(logger),
    web: { id: webId, recent, processes: () => peers.all(), status: webStatus },
    video: {
      requireKey: config.video.requireKey,
      ffprobe: findVideoProbe(config, logger),
      limits: config.video,
      toolMemoryBytes: config.video.toolMemoryBytes,
      resultTimeoutSeconds: config.video.resultTimeoutSeconds,
    },
  });
  // Node's `headersTimeout` and `requestTimeout` bound how long a client takes to *send* its request (they stop
  // counting once it has arrived, so a request waiting minutes for a cold-booting fleet is not cut: the result
  // deadline bounds that). The idle socket timeout stays off for the same reason.
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutSeconds * 1000,
      requestTimeout: limits.uploadTimeoutSeconds * 1000,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(limits),
    },
    app,
  );
  server.timeout = 0;
  // Longer than a load balancer's idle timeout, so that it, not we, closes idle keep-alives (front-door-timeouts.ts).
  server.keepAliveTimeout = frontDoorTimeouts(config).keepAliveSeconds * 1000;
  const rawHeaders = rawAnswerHeaders(server, () => serverStateOf(fleetState.current(), webId));
  answerClientErrors(server, limits, logger, rawHeaders);
  capConnections(server, limits, logger, rawHeaders);
  // Several processes share the port: the kernel spreads the connections among them (SO_REUSEPORT).
  server.listen({ port: config.web.port, host: config.web.host, reusePort: config.web.processes > 1 });
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
  const { port } = server.address() as AddressInfo;
  const host = config.web.host === '0.0.0.0' ? '127.0.0.1' : config.web.host;
  logger.info({ port, queues, replyQueue: replyQueue.name }, 'web tier listening');
  const photos = sweepUnenrolledPhotos({
    s3,
    inBucket: config.resources.inBucket,
    collections,
    // No enrollment takes longer than its upload and the wait for its results.
    minAgeMs: (limits.uploadTimeoutSeconds + config.web.resultTimeoutSeconds) * 1000,
    logger,
  });
  if (!config.enrollment.apiKey) {
    logger.info(
      'the enrollment API (/people) is off: set API_KEY (16+ characters) to turn it on, or use npm run enroll',
    );
  }

  return {
    url: `http://${host}:${port}`,
    webId,
    replyQueue,
    reaper,
    snapshot,
    app,
    port,
    server,
    router,
    async stop() {
      accepting = false;
      const photosStopped = photos.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + config.shutdownGraceSeconds * 1000;
      while (waiting() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (waiting() > 0) logger.warn({ pending: waiting() }, 'grace period over; abandoning waiting requests');
      await Promise.all([router.stop(), fleetState.stop(), reaper.stop()]);
      peers.stop();
      // Only now: a result for a request that was still waiting finds its queue.
      await replyQueue.close();
      server.closeAllConnections();
      await closed;
      if (metricsServer) await new Promise((resolve) => metricsServer.close(resolve));
      await photosStopped;
      for (const client of [s3, sqs, ...pollerClients]) client.destroy();
      logger.info('web tier stopped');
    },
  };
}
