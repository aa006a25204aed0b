/**
 * Starts the web tier: clients, response pollers, the Express app on its port; and stops it gracefully
 * (refuse new uploads, let those in flight get their answers within the grace period, then close).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createS3Client, createSqsClient } from '../shared/aws.js';
import type { Config } from '../shared/config.js';
import { CollectionRepository } from '../shared/collections/repository.js';
import { migrateGalleryDocument } from '../shared/collections/migration.js';
import type { Logger } from '../shared/logger.js';
import { MODEL_FILES } from '../shared/models.js';
import type { QueueUrls } from '../shared/resources.js';
import { buildApp } from './app.js';
import { findTool, VideoToolError, type VideoTool } from '../video/tools.js';
import { buildConsole } from './console-route.js';
import { rawAnswerHeaders } from './answer-timer.js';
import { answerClientErrors, capConnections, connectionsCheckingIntervalMs } from './client-limits.js';
import { FleetStateWatch, serverStateOf } from './fleet-state.js';
import { ResponseRouter } from './response-router.js';
import { WebMetrics } from './web-metrics.js';
import { sweepUnenrolledPhotos } from './unenrolled-photos.js';

export interface RunningWebTier {
  readonly url: string;
  /** The Express app (its routes are listed by the OpenAPI test). */
  readonly app: Express;
  readonly port: number;
  readonly server: Server;
  readonly router: ResponseRouter;
  stop(): Promise<void>;
}

/**
 * Node's `headersTimeout` and `requestTimeout` bound how long a client takes to *send* its request (they stop
 * counting once it has arrived, so a request waiting minutes for a cold-booting fleet is not cut: the result
 * deadline bounds that). The idle socket timeout stays off for the same reason.
 */
/** Longer than the 60 s idle timeout of AWS load balancers, so they, not we, close idle keep-alives. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface WebTierOptions {
  /** Where to read the autoscaler's status; default AUTOSCALER_STATUS_URL. */
  readonly statusUrl?: () => string | undefined;
  /** Where /monitoring/ forwards; default MONITOR_URL. */
  readonly monitorUrl?: () => string | undefined;
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
  logger: Logger,
  queues: QueueUrls,
  options: WebTierOptions = {},
): Promise<RunningWebTier> {
  const s3 = createS3Client(config);
  const sqs = createSqsClient(config);
  const pollerClients = Array.from({ length: config.web.responsePollers }, () => createSqsClient(config));
  const router = new ResponseRouter({ queueUrl: queues.response, clients: pollerClients, logger });
  router.start();

  const fleetState = new FleetStateWatch(options.statusUrl ?? (() => config.autoscaler.statusUrl), logger);
  fleetState.start();
  const metrics = new WebMetrics({ waiting: () => router.pending, fleet: () => fleetState.current() });

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
  const app = buildApp({
    s3,
    sqs,
    router,
    logger,
    queues,
    inBucket: config.resources.inBucket,
    outBucket: config.resources.outBucket,
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
    console: buildConsole(logger),
    video: {
      requireKey: config.video.requireKey,
      ffprobe: findVideoProbe(config, logger),
      limits: config.video,
      toolMemoryBytes: config.video.toolMemoryBytes,
      resultTimeoutSeconds: config.video.resultTimeoutSeconds,
    },
  });
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutSeconds * 1000,
      requestTimeout: limits.uploadTimeoutSeconds * 1000,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(limits),
    },
    app,
  );
  server.timeout = 0;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  const rawHeaders = rawAnswerHeaders(server, () => serverStateOf(fleetState.current()));
  answerClientErrors(server, limits, logger, rawHeaders);
  capConnections(server, limits, logger, rawHeaders);
  server.listen(config.web.port, config.web.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
  const { port } = server.address() as AddressInfo;
  const host = config.web.host === '0.0.0.0' ? '127.0.0.1' : config.web.host;
  logger.info({ port, queues }, 'web tier listening');
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
      while (router.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (router.pending > 0)
        logger.warn({ pending: router.pending }, 'grace period over; abandoning waiting requests');
      await Promise.all([router.stop(), fleetState.stop()]);
      server.closeAllConnections();
      await closed;
      await photosStopped;
      for (const client of [s3, sqs, ...pollerClients]) client.destroy();
      logger.info('web tier stopped');
    },
  };
}
