/** GET /metrics: the web tier's Prometheus metrics (web-metrics.ts), in the Prometheus text format. */
import { Router, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { methodNotAllowed } from './http-errors.js';

export function metricsHandler(registry: Registry): RequestHandler {
  return async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  };
}

export function metricsRoute(registry: Registry): Router {
  const router = Router();
  router.get('/metrics', metricsHandler(registry));
  router.all('/metrics', methodNotAllowed('GET'));
  return router;
}
