/**
 * GET /live: what the console's live view charts every second, from what the web tier already knows (no call
 * to S3, SQS or the autoscaler per request): recognitions per second and their latency over the last seconds,
 * summed over the machine's web processes, and the fleet and queue as the autoscaler last saw them.
 */
import type { RequestHandler } from 'express';
import type { FleetStateWatch } from '../process/fleet-state.js';
import { liveSummary } from '../process/recent-answers.js';
import type { WebProcessSnapshot } from '../process/web-processes.js';

/** Every web process of this machine counts (their figures are passed around once a second). */
export function liveHandler(processes: () => readonly WebProcessSnapshot[], fleet: FleetStateWatch): RequestHandler {
  return (_req, res) => {
    const snapshot = fleet.current();
    const web = processes();
    res.set('Cache-Control', 'no-store').json({
      at: Date.now(),
      recognitions: liveSummary(web.map((p) => p.answers)),
      waiting: web.reduce((sum, p) => sum + p.waiting, 0),
      webProcesses: web.length,
      queue: snapshot?.status.queue ?? null,
      workers: snapshot?.status.workers ?? null,
      desired: snapshot?.status.desired ?? null,
      maxWorkers: snapshot?.status.maxWorkers ?? null,
      fleetReadAt: snapshot?.readAt ?? null,
    });
  };
}
