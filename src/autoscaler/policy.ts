/**
 * The scaling decision, a pure function: from the request queue, the traffic and the fleet to the number of
 * workers and the one action that moves towards it. The most of three needs, clamped to [minWorkers, maxWorkers]:
 *
 * - a burst: one worker per `messagesPerWorker` queued messages (visible and in flight), launched at once;
 * - the arrival rate: enough workers for the requests arriving a second at `targetUtilisation`, from each
 *   request's time on a worker (arrivals.ts);
 * - a trickle: one worker while requests keep arriving, that is until none has for `scaleInIdleMs`. A queue that
 *   looks empty between two requests of a trickle is no reason to stop its worker and make the next one wait for
 *   a cold start.
 *
 * Two rules keep it safe. Launches count every worker that exists, starting and stopping included, so the
 * fleet never overshoots the cap, whatever the autoscaler restarted or retried before. And a running worker is
 * stopped only when it holds nothing: once the queue has been empty for `scaleInIdleMs` (then none holds
 * anything), or, while a backlog remains (a steady trickle that never empties the queue), when the fleet has
 * been larger than the backlog needs for `scaleInIdleMs` and the fleet driver says that worker is idle. A
 * worker whose idleness is unknown is never stopped under a backlog. Workers still starting hold nothing and
 * may be stopped at any time.
 */
import type { Arrivals } from './arrivals.js';
import type { FleetWorker } from './fleet.js';

export interface PolicyOptions {
  /** Queued messages per worker; default 4. */
  readonly messagesPerWorker: number;
  /** Fewest workers, even when idle; default 0. */
  readonly minWorkers: number;
  /** Most workers that may exist at once, in any state; default 19 on AWS, one per core locally. */
  readonly maxWorkers: number;
  /**
   * How long the queue must have been empty, and no request have arrived, before running workers are stopped,
   * in milliseconds.
   */
  readonly scaleInIdleMs: number;
  /** The share of a worker's time the arrival rate may fill (0–1); default 0.7. */
  readonly targetUtilisation?: number;
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
  /** The traffic, where known (arrivals.ts): requests a second, a worker's time on one, the last arrival. */
  readonly arrivals?: Arrivals;
}

export type Action = { kind: 'none' } | { kind: 'launch'; count: number } | { kind: 'stop'; ids: string[] };

export interface Decision {
  readonly desired: number;
  readonly workers: { starting: number; running: number; stopping: number; warm?: number };
  readonly action: Action;
  /** Why, in words, for the log line. */
  readonly reason: string;
}

/** What a request's time on a worker is taken to be before any worker has said: a course image, with margin. */
const DEFAULT_SECONDS_PER_MESSAGE = 0.05;

/** The workers the traffic needs, before the clamp: the most of the burst, the rate and the trickle needs. */
export function workersNeeded(observation: Observation, p: PolicyOptions): { count: number; why: string } {
  const backlog = observation.visible + observation.inFlight;
  const burst = Math.ceil(backlog / p.messagesPerWorker);
  const a = observation.arrivals ?? {};
  const arriving = a.lastArrivalAgoMs !== undefined && a.lastArrivalAgoMs < p.scaleInIdleMs;
  // The smoothed rate outlives the traffic by its window: once no request has arrived for the idle window, it
  // asks for nobody.
  const rate =
    a.perSecond === undefined || !arriving
      ? 0
      : Math.ceil(
          // A rate is counted to a hundredth of a worker: noise of a request a minute makes nobody.
          Math.floor(
            ((a.perSecond * (a.secondsPerMessage ?? DEFAULT_SECONDS_PER_MESSAGE)) / (p.targetUtilisation ?? 0.7)) * 100,
          ) / 100,
        );
  const trickle = arriving ? 1 : 0;
  const count = Math.max(burst, rate, trickle);
  const why =
    count === 0
      ? 'no traffic'
      : burst >= rate && burst >= trickle
        ? `backlog ${backlog}`
        : rate > 1 || trickle === 0
          ? `${round(a.perSecond!)} requests/s × ${round(a.secondsPerMessage ?? DEFAULT_SECONDS_PER_MESSAGE, 3)} s`
          : `a request arrived ${round((a.lastArrivalAgoMs ?? 0) / 1000)} s ago`;
  return { count, why };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export function decide(observation: Observation, p: PolicyOptions): Decision {
  const backlog = observation.visible + observation.inFlight;
  const needed = workersNeeded(observation, p);
  const desired = Math.min(p.maxWorkers, Math.max(p.minWorkers, needed.count));
  const byState = (state: FleetWorker['state']) => observation.workers.filter((w) => w.state === state);
  const starting = byState('starting');
  const running = byState('running');
  const warm = byState('warm').length;
  const workers = {
    starting: starting.length,
    running: running.length,
    stopping: observation.workers.length - starting.length - running.length - warm,
    ...(warm > 0 ? { warm } : {}),
  };
  const active = starting.length + running.length;
  const decision = (action: Action, reason: string): Decision => ({ desired, workers, action, reason });

  if (desired > active) {
    // Warm workers are not counted: a launch wakes them first, and they become part of what it launches.
    const room = p.maxWorkers - (observation.workers.length - warm);
    if (room <= 0) return decision({ kind: 'none' }, 'at the cap until stopping workers are gone');
    return decision({ kind: 'launch', count: Math.min(desired - active, room) }, needed.why);
  }
  if (desired < active) {
    const surplus = active - desired;
    // Newest first: on EC2 the lowest-numbered instances stay, so names stay compact.
    const newestFirst = (ws: FleetWorker[]) => [...ws].sort((a, b) => b.number - a.number);
    const quiet =
      observation.arrivals?.lastArrivalAgoMs === undefined || observation.arrivals.lastArrivalAgoMs >= p.scaleInIdleMs;
    const emptyLasted = backlog === 0 && observation.queueEmptyForMs >= p.scaleInIdleMs;
    // No traffic: the queue has been empty, and no request has arrived, for the idle window.
    const idle = emptyLasted && quiet;
    // Traffic that needs fewer workers than run (a trickle after a burst), for the idle window: with an empty
    // queue nobody holds anything; under a backlog, only workers known to hold nothing.
    const surplusLasted = (observation.overProvisionedForMs ?? 0) >= p.scaleInIdleMs;
    const stoppable =
      idle || (emptyLasted && surplusLasted) ? running : surplusLasted ? running.filter((w) => w.busy === false) : [];
    const candidates = [...newestFirst(starting), ...newestFirst(stoppable)].slice(0, surplus);
    if (candidates.length > 0) {
      const seconds = (ms: number) => Math.round(ms / 100) / 10;
      return decision(
        { kind: 'stop', ids: candidates.map((w) => w.id) },
        idle
          ? `no request for ${seconds(Math.min(observation.queueEmptyForMs, observation.arrivals?.lastArrivalAgoMs ?? Infinity))} s`
          : candidates.some((w) => w.state === 'running')
            ? `${needed.why} needs ${desired} for ${seconds(observation.overProvisionedForMs ?? 0)} s; stopping idle workers`
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
