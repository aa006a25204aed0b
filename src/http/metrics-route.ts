/** GET /metrics: the web tier's Prometheus metrics (web-metrics.ts), in the Prometheus text format. */
import { Router } from 'express';
import type { Registry } from 'prom-client';
import { methodNotAllowed } from './http-errors.js';

export function metricsRoute(registry: Registry): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  router.all('/metrics', methodNotAllowed('GET'));
  return router;
}
