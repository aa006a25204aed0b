/**
 * The autoscaler's loop, thin around the policy: every poll it reads the request queue (visible and in flight)
 * and the fleet, decides, acts, and logs the decision as one line. A failing read or action (throttling, no
 * capacity, a dead emulator) is logged and retried with exponential back-off; it never ends the loop.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../shared/logger.js';
import { doublingBackoff, PollLoop } from '../shared/poll-loop.js';
import { queueDepth, type QueueDepth } from '../shared/aws/resources.js';
import type { Fleet, FleetWorker } from './fleet.js';
import { decide, type Action, type Decision, type PolicyOptions } from './policy.js';
import { ArrivalMeter, type Arrivals } from './arrivals.js';

export interface ControllerOptions {
  readonly sqs: SQSClient;
  readonly requestQueueUrl: string;
  /**
   * The video queue (POST /videos, and S3's events on AWS): work for the same workers, counted with the
   * requests, each video as MESSAGES_PER_WORKER of them.
   */
  readonly videoQueueUrl?: string;
  readonly fleet: Fleet;
  readonly policy: PolicyOptions;
  /** Time between decisions, in milliseconds; default 1000. */
  readonly pollIntervalMs: number;
  /**
   * Time between decisions while no worker runs or starts, in milliseconds; default `pollIntervalMs`. Shorter
   * locally, so that the first request after a pause wakes a warm worker at once.
   */
  readonly idlePollIntervalMs?: number;
  /** Longest wait after repeated failures, in milliseconds; default 30 000. */
  readonly maxBackoffMs?: number;
  readonly logger: Logger;
  /** Told of each decision and each failed round (for the autoscaler's metrics). */
  readonly observer?: ControllerObserver;
  /** The clock, in milliseconds (a simulation's); default Date.now. */
  readonly now?: () => number;
}

export interface ControllerObserver {
  decided(decision: Decision): void;
  failed(): void;
}

/** What GET /status serves: the last decision and what it was based on. */
export interface AutoscalerStatus {
  readonly queue: { visible: number; inFlight: number };
  readonly workers: { starting: number; running: number; stopping: number; warm?: number };
  /** Each worker: its id, state and, where known, where its Prometheus metrics are. */
  readonly fleet: readonly FleetWorker[];
  readonly desired: number;
  readonly minWorkers: number;
  readonly maxWorkers: number;
  readonly messagesPerWorker: number;
  /** The traffic as the policy saw it: requests a second and a worker's seconds on one, smoothed. */
  readonly arrivals?: { perSecond?: number; secondsPerMessage?: number; lastArrivalAgoMs?: number };
  readonly action: string;
  readonly reason: string;
  readonly decidedAt: string;
  /** The last failure, while the loop is backing off because of it. */
  readonly error?: string;
}

export class AutoscalerController {
  private readonly loop: PollLoop;
  private emptySince: number | undefined;
  private overProvisionedSince: number | undefined;
  private last: AutoscalerStatus | undefined;
  private lastLogged = '';
  private readonly arrivals = new ArrivalMeter();

  constructor(private readonly options: ControllerOptions) {
    this.loop = new PollLoop({
      round: async () => {
        await this.tick();
      },
      intervalMs: () => {
        const w = this.last?.workers;
        const idle = w !== undefined && w.running + w.starting === 0;
        return idle ? (options.idlePollIntervalMs ?? options.pollIntervalMs) : options.pollIntervalMs;
      },
      backoffMs: doublingBackoff(options.pollIntervalMs, options.maxBackoffMs ?? 30_000),
      onError: (err, failures) => {
        this.last = this.last && { ...this.last, error: (err as Error).message };
        options.observer?.failed();
        options.logger.error({ err, failures }, 'autoscaler round failed; backing off');
      },
      // A round that launches or stops workers is let finish, so that what it did is recorded.
      abortRoundOnStop: false,
    });
  }

  status(): AutoscalerStatus | undefined {
    return this.last;
  }

  start(): void {
    this.loop.start();
  }

  /** Ends the loop after the current decision; the fleet is left as it is (a restart adopts it). */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One round: observe, decide, act. */
  async tick(): Promise<Decision> {
    const [{ queue, work }, workers] = await Promise.all([this.observeQueues(), this.options.fleet.list()]);
    const now = (this.options.now ?? Date.now)();
    const backlog = queue.visible + queue.inFlight;
    if (backlog > 0) this.emptySince = undefined;
    else this.emptySince ??= now;
    const arrivals = this.arrivals.observe(now, workers, backlog);
    const decision = decide(
      {
        ...work,
        workers,
        arrivals,
        queueEmptyForMs: this.emptySince === undefined ? 0 : now - this.emptySince,
        overProvisionedForMs: this.overProvisionedSince === undefined ? 0 : now - this.overProvisionedSince,
      },
      this.options.policy,
    );
    if (decision.desired < decision.workers.starting + decision.workers.running) this.overProvisionedSince ??= now;
    else this.overProvisionedSince = undefined;
    this.record(queue, workers, decision, arrivals);
    await this.act(decision.action);
    // The warm pool is filled in calm rounds: never in the middle of a burst, whose workers need the cores.
    if (decision.action.kind === 'none') await this.options.fleet.keepWarm?.(workers);
    this.options.observer?.decided(decision);
    return decision;
  }

  /**
   * The messages queued (what the status shows), and the work they are for the policy: a video counts as
   * MESSAGES_PER_WORKER messages, so that each video queued gets a worker of its own (a worker takes one video at
   * a time, and a video is hundreds of images' work).
   */
  private async observeQueues(): Promise<{ queue: QueueDepth; work: QueueDepth }> {
    const [requests, videos] = await Promise.all([
      queueDepth(this.options.sqs, this.options.requestQueueUrl),
      this.options.videoQueueUrl
        ? queueDepth(this.options.sqs, this.options.videoQueueUrl)
        : { visible: 0, inFlight: 0 },
    ]);
    const weight = this.options.policy.messagesPerWorker;
    return {
      queue: { visible: requests.visible + videos.visible, inFlight: requests.inFlight + videos.inFlight },
      work: {
        visible: requests.visible + videos.visible * weight,
        inFlight: requests.inFlight + videos.inFlight * weight,
      },
    };
  }

  private async act(action: Action): Promise<void> {
    if (action.kind === 'launch') await this.options.fleet.launch(action.count);
    if (action.kind === 'stop') await this.options.fleet.stop(action.ids);
  }

  /** Keeps the status and logs the decision: at info when it acts or what it sees changed, else at debug. */
  private record(
    queue: { visible: number; inFlight: number },
    fleet: readonly FleetWorker[],
    d: Decision,
    arrivals: Arrivals,
  ): void {
    const action =
      d.action.kind === 'launch'
        ? `launch ${d.action.count}`
        : d.action.kind === 'stop'
          ? `stop ${d.action.ids.join(' ')}`
          : 'none';
    const { minWorkers, maxWorkers, messagesPerWorker } = this.options.policy;
    this.last = {
      queue,
      workers: d.workers,
      fleet,
      desired: d.desired,
      minWorkers,
      maxWorkers,
      messagesPerWorker,
      arrivals: {
        ...(arrivals.perSecond === undefined ? {} : { perSecond: Math.round(arrivals.perSecond * 100) / 100 }),
        ...(arrivals.secondsPerMessage === undefined
          ? {}
          : { secondsPerMessage: Math.round(arrivals.secondsPerMessage * 10_000) / 10_000 }),
        ...(arrivals.lastArrivalAgoMs === undefined ? {} : { lastArrivalAgoMs: Math.round(arrivals.lastArrivalAgoMs) }),
      },
      action,
      reason: d.reason,
      decidedAt: new Date().toISOString(),
    };
    const line = { ...queue, ...d.workers, desired: d.desired, action, reason: d.reason };
    const key = JSON.stringify(line);
    const level = action !== 'none' || key !== this.lastLogged ? 'info' : 'debug';
    this.lastLogged = key;
    this.options.logger[level](line, 'scaling decision');
  }
}
