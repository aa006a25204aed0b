/**
 * The scaling decision, a pure function: from the request queue and the fleet to the number of workers and
 * the one action that moves towards it. Greedy: one worker per `messagesPerWorker` queued messages (visible
 * and in flight), clamped to [minWorkers, maxWorkers].
 *
 * Two rules keep it safe. Launches count every worker that exists, starting and stopping included, so the
 * fleet never overshoots the cap, whatever the autoscaler restarted or retried before. And a running worker is
 * stopped only when it holds nothing: once the queue has been empty for `scaleInIdleMs` (then none holds
 * anything), or, while a backlog remains (a steady trickle that never empties the queue), when the fleet has
 * been larger than the backlog needs for `scaleInIdleMs` and the fleet driver says that worker is idle. A
 * worker whose idleness is unknown is never stopped under a backlog. Workers still starting hold nothing and
 * may be stopped at any time.
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
  /**
   * How long the fleet has had more starting and running workers than the backlog needs (0 when not), in
   * milliseconds: the scale-in under a backlog waits this out, so that a dip between two requests of a trickle
   * stops nobody.
   */
  readonly overProvisionedForMs?: number;
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
    // Under a backlog, only workers known to hold nothing, once the surplus has lasted the idle window.
    const trickle = backlog > 0 && (o.overProvisionedForMs ?? 0) >= p.scaleInIdleMs;
    const stoppable = idle ? running : trickle ? running.filter((w) => w.busy === false) : [];
    const candidates = [...newestFirst(starting), ...newestFirst(stoppable)].slice(0, surplus);
    if (candidates.length > 0) {
      const seconds = (ms: number) => Math.round(ms / 100) / 10;
      return decision(
        { kind: 'stop', ids: candidates.map((w) => w.id) },
        idle
          ? `queue empty for ${seconds(o.queueEmptyForMs)} s`
          : candidates.some((w) => w.state === 'running')
            ? `backlog ${backlog} needs ${desired} for ${seconds(o.overProvisionedForMs ?? 0)} s; stopping idle workers`
            : 'not needed before it started',
      );
    }
    return decision(
      { kind: 'none' },
      backlog > 0 ? 'every surplus worker holds messages or may; waiting' : 'waiting out the idle window',
    );
  }
  return decision({ kind: 'none' }, 'at the desired size');
}
