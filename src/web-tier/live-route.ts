/**
 * GET /live: what the console's live view charts every second, from what the web tier already knows (no call
 * to S3, SQS or the autoscaler per request): recognitions per second and their latency over the last seconds,
 * and the fleet and queue as the autoscaler last saw them.
 */
import { Router } from 'express';
import type { FleetStateWatch } from './fleet-state.js';
import { methodNotAllowed } from './http-errors.js';
import type { RecentAnswers } from './recent-answers.js';

export function liveRoute(recent: RecentAnswers, fleet: FleetStateWatch, waiting: () => number): Router {
  const router = Router();
  router.get('/live', (_req, res) => {
    const snapshot = fleet.current();
    res.set('Cache-Control', 'no-store').json({
      at: Date.now(),
      recognitions: recent.summary(),
      waiting: waiting(),
      queue: snapshot?.status.queue ?? null,
      workers: snapshot?.status.workers ?? null,
      desired: snapshot?.status.desired ?? null,
      maxWorkers: snapshot?.status.maxWorkers ?? null,
      fleetReadAt: snapshot?.readAt ?? null,
    });
  });
  router.all('/live', methodNotAllowed('GET'));
  return router;
}
