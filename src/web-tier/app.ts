/**
 * Builds the web tier's Express app from its dependencies, one room per resource: recognition (POST /, POST
 * /videos), people and collections, operations (health, status, live, metrics, the OpenAPI document),
 * monitoring, the console. Each room declares its operations beside its routes (`*-api.ts`) and mounts them
 * (api/operation.ts); every route that sends work to the app tier goes through one client
 * (app-tier-client/client.ts). `main` (or a test) binds the app to a port.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import express, { type Express, type RequestHandler } from 'express';
import { AppError } from '../shared/wire/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CollectionRepository } from '../shared/collections/repository.js';
import { errorHandler } from '../http/http-errors.js';
import type { AppTierClient } from './app-tier-client/client.js';
import { consoleRoute, type ConsoleBundle } from './console/console-route.js';
import { monitoringRoute } from './monitoring/monitoring-route.js';
import { openApiDocument } from './openapi.js';
import { operationsRoutes } from './operations/operations-routes.js';
import type { WebTierStatus } from './operations/status-route.js';
import { peopleRoutes } from './people/people-routes.js';
import { serverStateOf, type FleetStateWatch } from './process/fleet-state.js';
import type { RecentAnswers } from './process/recent-answers.js';
import type { WebMetrics } from './process/web-metrics.js';
import type { WebProcessSnapshot } from './process/web-processes.js';
import { recognitionRoutes, type RecognitionDeps } from './recognition/recognition-routes.js';
import { answerHeaders } from './requests/answer-timer.js';
import { uploadSlots, type ClientLimits } from './requests/client-limits.js';
import { collectionParam, SeenCollections } from './requests/collection-param.js';

export interface WebTierDeps {
  /** Where uploads go and answers come from (the in-bucket, the request and video queues, the reply queue). */
  readonly appTier: AppTierClient;
  readonly logger: Logger;
  /** The buckets and queues this process reads and writes, for GET /readyz and the stores below. */
  readonly aws: {
    readonly s3: S3Client;
    readonly sqs: SQSClient;
    readonly inBucket: string;
    readonly outBucket: string;
    /** The request queue and this process's reply queue. */
    readonly queueUrls: readonly string[];
  };
  readonly maxUploadBytes: number;
  readonly maxImagePixels: number;
  /** The deadline of an answer, for errors that reach the error handler without one. */
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
  /** Shown to the monitor with each forwarded batch, so that it believes the client's address. */
  readonly monitorForwardToken: string | undefined;
  /** The web console's files, built at start (console-route.ts). */
  readonly console: ConsoleBundle;
  readonly video: RecognitionDeps['video'];
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

  app.use(
    operationsRoutes({
      readiness: {
        s3: deps.aws.s3,
        sqs: deps.aws.sqs,
        buckets: [deps.aws.inBucket, deps.aws.outBucket],
        queueUrls: deps.aws.queueUrls,
        isAccepting: deps.isAccepting,
      },
      autoscalerStatusUrl: deps.autoscalerStatusUrl,
      webStatus: deps.web.status,
      webProcesses: deps.web.processes,
      fleetState: deps.fleetState,
      metrics: deps.metrics.registry,
      openApi: openApiDocument(),
      apiKey: deps.apiKey,
    }),
  );
  app.use(monitoringRoute(deps.monitorUrl, deps.monitorForwardToken));
  app.use(consoleRoute(deps.console));

  const whileAccepting: RequestHandler = (_req, _res, next) =>
    next(deps.isAccepting() ? undefined : new AppError('SHUTTING_DOWN'));
  const slots = uploadSlots(deps.clientLimits);
  const seenCollections = new SeenCollections();
  app.use(
    peopleRoutes({
      appTier: deps.appTier,
      s3: deps.aws.s3,
      inBucket: deps.aws.inBucket,
      whileAccepting,
      uploadSlots: slots,
      collections: deps.collections,
      seenCollections,
      logger: deps.logger,
      apiKey: deps.apiKey,
      readRequiresKey: deps.readRequiresKey,
      maxUploadBytes: deps.maxUploadBytes,
      maxImagePixels: deps.maxImagePixels,
    }),
  );
  app.use(
    recognitionRoutes({
      appTier: deps.appTier,
      s3: deps.aws.s3,
      outBucket: deps.aws.outBucket,
      logger: deps.logger,
      maxUploadBytes: deps.maxUploadBytes,
      maxImagePixels: deps.maxImagePixels,
      apiKey: deps.apiKey,
      whileAccepting,
      uploadSlots: slots,
      collection: collectionParam(deps.collections, seenCollections),
      video: deps.video,
    }),
  );
  app.use((req, _res, next) => next(new AppError('NOT_FOUND', { path: req.path })));
  app.use(errorHandler(deps.logger, deps));
  return app;
}
