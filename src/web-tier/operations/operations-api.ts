/** Health, readiness, the fleet's state, metrics and the OpenAPI document: what they answer. */
import { liveSchema, statusSchema } from '../api/api-schemas.js';
import { errorAnswer, type Operations } from '../api/operation.js';

export const OPERATIONS_API = {
  '/healthz': {
    get: {
      summary: 'The process is alive',
      tag: 'operations',
      answers: { 200: { description: '`ok`', type: 'text/plain' } },
      examples: { alive: { summary: 'always', status: 200, text: 'ok' } },
    },
  },
  '/readyz': {
    get: {
      summary: 'The web tier can do its job (buckets and queues answer)',
      tag: 'operations',
      answers: {
        200: { description: '`ready`', type: 'text/plain' },
        503: { description: 'what it cannot reach', type: 'text/plain' },
      },
      examples: { ready: { summary: 'with S3 and SQS up', status: 200, text: 'ready' } },
    },
  },
  '/status': {
    get: {
      summary: 'The autoscaler’s last decision (queue depth, workers by state, desired) and the web processes',
      tag: 'operations',
      answers: {
        200: { description: 'the status', schema: statusSchema },
        503: errorAnswer('the autoscaler does not answer'),
      },
      examples: { status: { summary: 'a running autoscaler', status: 200 } },
    },
  },
  '/live': {
    get: {
      summary: 'Recognitions per second, latency and the fleet, for the console’s live view',
      tag: 'operations',
      answers: { 200: { description: 'the last seconds', schema: liveSchema } },
      examples: { live: { summary: 'now', status: 200 } },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics of the web tier',
      description:
        'The Prometheus text format: answers by route, status and code, latency histograms by stage, requests waiting, the queue and the fleet as the autoscaler last saw them, process metrics. The autoscaler and each worker serve their own /metrics.',
      tag: 'operations',
      answers: { 200: { description: 'the metrics', type: 'text/plain; version=0.0.4' } },
      examples: { scrape: { summary: 'a scrape', status: 200 } },
    },
  },
  '/openapi.json': {
    get: {
      summary: 'This description',
      tag: 'operations',
      answers: { 200: { description: 'OpenAPI 3.1', type: 'application/json' } },
      examples: { self: { summary: 'this document', status: 200 } },
    },
  },
} satisfies Operations;
