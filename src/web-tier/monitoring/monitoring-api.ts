/** What clients report to the monitoring server, and the reports read back: what they take and answer. */
import { MAX_REPORTS_PER_BATCH } from '../../shared/wire/monitor-reports.js';
import { reportBatchSchema } from '../../shared/wire/monitor-reports.js';
import { z } from 'zod';
import {
  errorsReportSchema,
  overviewSchema,
  stagesSchema,
  storedSchema,
  timelineSchema,
  workersReportSchema,
  webProcessesReportSchema,
} from '../api/api-schemas.js';
import { errorAnswer, errorText, EXAMPLE_AT, type Operation, type Operations, type Schema } from '../api/operation.js';

const windowQuery = {
  minutes: 'the window ends now and starts this many minutes ago (default 15, at most 10080)',
  since: 'or: the window’s start, epoch milliseconds',
  until: 'the window’s end, epoch milliseconds (default now)',
};

const monitoringQuery = (schema: Schema, what: string, extra: Record<string, string> = {}): Operation => ({
  summary: what,
  tag: 'monitoring',
  description: 'Forwarded to the monitoring server (MONITOR_URL; `npm start` runs one); 503 when there is none.',
  query: { ...windowQuery, ...extra },
  answers: { 200: { description: what, schema }, 400: errorAnswer('the query is not valid') },
  examples: {
    lastQuarterHour: { summary: 'the last 15 minutes', query: { minutes: '15' }, status: 200 },
    badWindow: {
      summary: 'a window that ends before it starts',
      query: { since: '2000', until: '1000' },
      headers: { Accept: 'text/plain' },
      status: 400,
      text: errorText('BAD_QUERY', { reason: 'since must be before until' }),
    },
  },
});

export const MONITORING_API = {
  '/monitoring/reports': {
    post: {
      summary: 'Report what a client saw of its answers (batches)',
      description: `Forwarded to the monitoring server. At most ${MAX_REPORTS_PER_BATCH} reports and 512 KiB per batch; a batch with one bad report is refused whole, and nothing of it is stored. Too many batches from one client in a minute: 429.`,
      tag: 'monitoring',
      body: {
        type: 'application/json',
        schema: z.toJSONSchema(reportBatchSchema, { io: 'input' }) as Record<string, unknown>,
      },
      answers: {
        202: { description: 'stored', schema: storedSchema },
        400: errorAnswer('not a valid batch'),
        413: errorAnswer('larger than 512 KiB'),
        429: errorAnswer('too many batches from this client in the last minute'),
        503: errorAnswer('no monitoring server'),
      },
      examples: {
        report: {
          summary: 'one answer seen by the workload generator',
          json: {
            reports: [
              {
                at: EXAMPLE_AT,
                source: 'workload',
                status: 200,
                clientMs: 84.2,
                server: {
                  validate: 0.4,
                  upload: 3.1,
                  enqueue: 2.2,
                  wait: 70.4,
                  detect: 12.1,
                  embed: 30.5,
                  total: 76.5,
                },
                state: { queueVisible: 0, queueInFlight: 1, workersRunning: 1, worker: 'local-worker-1', gallery: 3 },
              },
            ],
          },
          status: 202,
        },
        garbage: {
          summary: 'a report with a negative time',
          json: { reports: [{ at: EXAMPLE_AT, source: 'workload', status: 200, clientMs: -1 }] },
          headers: { Accept: 'text/plain' },
          status: 400,
          text: errorText('REPORTS_INVALID', { reason: 'reports.0.clientMs: Too small: expected number to be >=0' }),
        },
      },
    },
  },
  '/monitoring/api/overview': {
    get: monitoringQuery(overviewSchema, 'Answers, errors, and client, server and network latency'),
  },
  '/monitoring/api/timeline': {
    get: monitoringQuery(timelineSchema, 'The same over time, in buckets', {
      bucketSeconds: 'the buckets’ length (default: about 60 buckets over the window, at most 720)',
    }),
  },
  '/monitoring/api/stages': { get: monitoringQuery(stagesSchema, 'Latency per stage (web tier and worker)') },
  '/monitoring/api/workers': {
    get: monitoringQuery(workersReportSchema, 'Answers, errors and server latency per worker'),
  },
  '/monitoring/api/web': {
    get: monitoringQuery(webProcessesReportSchema, 'Answers, errors and server latency per web process'),
  },
  '/monitoring/api/errors': { get: monitoringQuery(errorsReportSchema, 'Errors by status and code') },
} satisfies Operations;
