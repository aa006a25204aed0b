/**
 * The scaling decision, a pure function: from the request queue and the fleet to the number of workers and
 * the one action that moves towards it. Greedy: one worker per `messagesPerWorker` queued messages (visible
 * and in flight), clamped to [minWorkers, maxWorkers].
 *
 * Two rules keep it safe. Launches count every worker that exists, starting and stopping included, so the
 * fleet never overshoots the cap, whatever the autoscaler restarted or retried before. And a running worker is
 * stopped only once the queue has been empty for `scaleInIdleMs`: while any message is queued or held, some
 * worker may be holding it. Workers still starting hold nothing and may be stopped at any time.
 */
import type { FleetWorker } from './fleet.js';

export interface PolicyOptions {
  /** Queued messages per worker; default 4. */
  readonly messagesPerWorker: number;
  /** Fewest workers, even when idle; default 0. */
  readonly minWorkers: number;
  /** Most workers that may exist at once, in any state; default 19 on AWS, one per core locally. */
  readonly maxWorkers: number;
  /** How long the queue must have been empty before running workers are stopped, in milliseconds. */
  readonly scaleInIdleMs: number;
}

export interface Observation {
  /** ApproximateNumberOfMessages: waiting to be received. */
  readonly visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received by a worker and not yet deleted. */
  readonly inFlight: number;
  /** How long the queue has been empty (0 when it holds anything), in milliseconds. */
  readonly queueEmptyForMs: number;
  readonly workers: readonly FleetWorker[];
}

export type Action = { kind: 'none' } | { kind: 'launch'; count: number } | { kind: 'stop'; ids: string[] };

export interface Decision {
  readonly desired: number;
  readonly workers: { starting: number; running: number; stopping: number };
  readonly action: Action;
  /** Why, in words, for the log line. */
  readonly reason: string;
}

export function decide(o: Observation, p: PolicyOptions): Decision {
  const backlog = o.visible + o.inFlight;
  const desired = Math.min(p.maxWorkers, Math.max(p.minWorkers, Math.ceil(backlog / p.messagesPerWorker)));
  const byState = (state: FleetWorker['state']) => o.workers.filter((w) => w.state === state);
  const starting = byState('starting');
  const running = byState('running');
  const workers = {
    starting: starting.length,
    running: running.length,
    stopping: o.workers.length - starting.length - running.length,
  };
  const active = starting.length + running.length;
  const decision = (action: Action, reason: string): Decision => ({ desired, workers, action, reason });

  if (desired > active) {
    const room = p.maxWorkers - o.workers.length;
    if (room <= 0) return decision({ kind: 'none' }, 'at the cap until stopping workers are gone');
    return decision({ kind: 'launch', count: Math.min(desired - active, room) }, `backlog ${backlog}`);
  }
  if (desired < active) {
    const surplus = active - desired;
    // Newest first: on EC2 the lowest-numbered instances stay, so names stay compact.
    const newestFirst = (ws: FleetWorker[]) => [...ws].sort((a, b) => b.number - a.number);
    const idle = backlog === 0 && o.queueEmptyForMs >= p.scaleInIdleMs;
    const candidates = [...newestFirst(starting), ...(idle ? newestFirst(running) : [])].slice(0, surplus);
    if (candidates.length > 0) {
      return decision(
        { kind: 'stop', ids: candidates.map((w) => w.id) },
        idle ? `queue empty for ${Math.round(o.queueEmptyForMs / 100) / 10} s` : 'not needed before it started',
      );
    }
    return decision(
      { kind: 'none' },
      backlog > 0 ? 'workers may hold messages; waiting for the queue to empty' : 'waiting out the idle window',
    );
  }
  return decision({ kind: 'none' }, 'at the desired size');
}
