/**
 * Builds the web tier's Express app from its dependencies; `main` (or a test) binds it to a port.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import express, { type Express, type RequestHandler } from 'express';
import { AppError } from '../shared/wire/errors.js';
import type { Logger } from '../shared/logger.js';
import type { QueueUrls } from '../shared/aws/resources.js';
import type { CollectionRepository } from '../shared/collections/repository.js';
import { collectionParam, SeenCollections } from './collection-param.js';
import { healthRoutes } from './health-routes.js';
import { peopleRoutes } from './people-routes.js';
import { uploadSlots, type ClientLimits } from './client-limits.js';
import { errorHandler, methodNotAllowed } from '../http/http-errors.js';
import { parseUpload } from './uploads.js';
import { recognizeRoute } from './recognize-route.js';
import { RequestSender } from './request-sender.js';
import { statusRoute, type WebTierStatus } from './status-route.js';
import type { ResponseRouter } from './response-router.js';
import { answerHeaders } from './answer-timer.js';
import { serverStateOf, type FleetStateWatch } from './fleet-state.js';
import type { WebMetrics } from './web-metrics.js';
import { metricsRoute } from '../http/metrics-route.js';
import { monitoringRoute } from './monitoring-route.js';
import { liveRoute } from './live-route.js';
import { openApiDocument } from './openapi.js';
import type { RecentAnswers } from './recent-answers.js';
import type { WebProcessSnapshot } from './web-processes.js';
import { consoleRoute, type ConsoleBundle } from './console-route.js';
import { videoRoute } from './video-route.js';
import { requireApiKey } from './api-key.js';
import type { VideoLimits } from '../video/probe.js';
import type { VideoTool, VideoToolError } from '../video/tools.js';

/** The course's multipart field name. */
export const UPLOAD_FIELD = 'inputFile';

export interface WebTierDeps {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly router: ResponseRouter;
  readonly logger: Logger;
  readonly queues: QueueUrls;
  readonly inBucket: string;
  readonly outBucket: string;
  readonly maxUploadBytes: number;
  readonly maxImagePixels: number;
  readonly resultTimeoutSeconds: number;
  /** False once shutdown has begun: new uploads get 503 while those in flight finish. */
  readonly isAccepting: () => boolean;
  /** Where the autoscaler's status is read for GET /status; undefined while it is unknown. */
  readonly autoscalerStatusUrl: () => string | undefined;
  readonly collections: CollectionRepository;
  /** The enrollment API's key; undefined turns its changes off. */
  readonly apiKey: string | undefined;
  readonly readRequiresKey: boolean;
  /** Deadlines and caps on what clients send (client-limits.ts). */
  readonly clientLimits: ClientLimits;
  /** This web process: its id (every answer names it), its last seconds, and the machine's other processes. */
  readonly web: {
    readonly id: string;
    readonly recent: RecentAnswers;
    /** This process and the machine's others, for GET /live. */
    readonly processes: () => readonly WebProcessSnapshot[];
    /** The web tier's part of GET /status. */
    readonly status: () => WebTierStatus;
  };
  /** The fleet as the autoscaler last saw it, for every answer's state header. */
  readonly fleetState: FleetStateWatch;
  readonly metrics: WebMetrics;
  /** The monitoring server that /monitoring/ forwards to; undefined while unknown or when there is none. */
  readonly monitorUrl: () => string | undefined;
  /** The web console's files, built at start (console-route.ts). */
  readonly console: ConsoleBundle;
  /** Classroom videos (POST /videos): the header reader, the limits, the deadline. */
  readonly video: {
    /** POST /videos needs the API key (its answer holds students' records). */
    readonly requireKey: boolean;
    readonly ffprobe: VideoTool | VideoToolError;
    readonly limits: VideoLimits;
    readonly toolMemoryBytes: number;
    readonly resultTimeoutSeconds: number;
  };
}

export function buildApp(deps: WebTierDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const { recent } = deps.web;
  app.use(
    answerHeaders({
      fleetState: () => serverStateOf(deps.fleetState.current(), deps.web.id),
      onAnswered: (res, timer) => {
        deps.metrics.answered(res, timer);
        if (res.req.method === 'POST' && res.req.path === '/') recent.add(timer.durations().total!, res.statusCode);
      },
    }),
  );

  const upload = parseUpload({
    maxUploadBytes: deps.maxUploadBytes,
    files: { field: UPLOAD_FIELD },
    tooManyFiles: () => new AppError('TOO_MANY_FILES', { limit: 1 }),
  });

  app.use(
    healthRoutes({
      s3: deps.s3,
      sqs: deps.sqs,
      buckets: [deps.inBucket, deps.outBucket],
      queueUrls: [deps.queues.request, deps.router.queueUrl],
      isAccepting: deps.isAccepting,
    }),
  );
  app.use(statusRoute(deps.autoscalerStatusUrl, deps.web.status));
  app.use(metricsRoute(deps.metrics.registry));
  app.use(monitoringRoute(deps.monitorUrl));
  app.use(liveRoute(deps.web.processes, deps.fleetState));
  const openApi = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.all('/openapi.json', methodNotAllowed('GET'));
  app.use(consoleRoute(deps.console));
  // What both routes that send work to the app tier need.
  const submitting = {
    s3: deps.s3,
    requests: new RequestSender(deps.sqs, deps.queues.request),
    router: deps.router,
    logger: deps.logger,
    inBucket: deps.inBucket,
    maxImagePixels: deps.maxImagePixels,
    resultTimeoutSeconds: deps.resultTimeoutSeconds,
  };
  const whileAccepting: RequestHandler = (_req, _res, next) =>
    next(deps.isAccepting() ? undefined : new AppError('SHUTTING_DOWN'));
  // Uploads arriving at once are capped, before any body is read.
  const slots = uploadSlots(deps.clientLimits);
  app.post(['/people/:name/faces', '/collections/:collection/people/:name/faces'], whileAccepting, slots);
  const seenCollections = new SeenCollections();
  app.use(
    peopleRoutes({
      ...submitting,
      collections: deps.collections,
      seenCollections,
      apiKey: deps.apiKey,
      readRequiresKey: deps.readRequiresKey,
      maxUploadBytes: deps.maxUploadBytes,
    }),
  );
  const collection = collectionParam(deps.collections, seenCollections);
  app.post('/', whileAccepting, collection, slots, upload, recognizeRoute(submitting));
  const videoUpload = parseUpload({
    maxUploadBytes: deps.video.limits.maxBytes,
    files: { field: UPLOAD_FIELD },
    tooManyFiles: () => new AppError('TOO_MANY_FILES', { limit: 1 }),
    toDisk: true,
    tooLarge: () => new AppError('VIDEO_TOO_LARGE', { limitBytes: deps.video.limits.maxBytes }),
  });
  // The answer holds students' records: the key is checked before any body is read.
  const videoAuth: RequestHandler = deps.video.requireKey
    ? requireApiKey(deps.apiKey, () => new AppError('VIDEOS_NEED_KEY'))
    : (_req, _res, next) => next();
  app.post(
    '/videos',
    whileAccepting,
    videoAuth,
    collection,
    slots,
    videoUpload,
    videoRoute({
      ...submitting,
      // The video queue, which workers poll beside the request queue: a video is long work, and images must
      // not wait behind it in a batch.
      requests: new RequestSender(deps.sqs, deps.queues.video),
      outBucket: deps.outBucket,
      ffprobe: deps.video.ffprobe,
      limits: deps.video.limits,
      toolMemoryBytes: deps.video.toolMemoryBytes,
      videoResultTimeoutSeconds: deps.video.resultTimeoutSeconds,
    }),
  );
  app.all('/videos', methodNotAllowed('POST'));
  // A person who opens the web tier's address in a browser gets the console.
  app.get('/', (req, res, next) => {
    if (req.accepts(['text/plain', 'application/json', 'text/html']) === 'text/html') res.redirect(303, '/console/');
    else next();
  });
  app.all('/', methodNotAllowed('POST'));
  app.use((req, _res, next) => next(new AppError('NOT_FOUND', { path: req.path })));
  app.use(errorHandler(deps.logger, deps));
  return app;
}
