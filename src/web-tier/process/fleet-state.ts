/**
 * What the web tier knows of the fleet without asking S3 or SQS: the autoscaler's last decision (queue depth
 * and workers by state), read from the autoscaler's status endpoint once a second by one loop, whatever the
 * request rate. Every answer's state header, the web tier's /metrics and the console's live view read it.
 */
import type { AutoscalerStatus } from '../../autoscaler/controller.js';
import type { ServerState } from '../../shared/wire/answer-metrics.js';
import type { Logger } from '../../shared/logger.js';
import { doublingBackoff, PollLoop } from '../../shared/poll-loop.js';

export interface FleetSnapshot {
  readonly status: AutoscalerStatus;
  /** When it was read, epoch milliseconds. */
  readonly readAt: number;
}

/** A status read must not hold the loop when the autoscaler hangs. */
const READ_TIMEOUT_MS = 2000;

export class FleetStateWatch {
  private readonly loop: PollLoop;
  private last: FleetSnapshot | undefined;
  private failing = false;

  constructor(
    private readonly statusUrl: () => string | undefined,
    private readonly logger: Logger,
    intervalMs = 1000,
  ) {
    this.loop = new PollLoop({
      round: (signal) => this.read(signal),
      intervalMs,
      backoffMs: doublingBackoff(intervalMs, 10_000),
      onError: (err, failures) => {
        // An autoscaler that is starting or restarting is normal: said once, not every second.
        if (failures === 1) this.logger.debug({ err }, 'could not read the autoscaler status; retrying');
      },
      abortRoundOnStop: true,
    });
  }

  /** The last status read, unless it is older than `maxAgeMs` (a stale figure is worse than none). */
  current(maxAgeMs = 15_000): FleetSnapshot | undefined {
    return this.last && Date.now() - this.last.readAt <= maxAgeMs ? this.last : undefined;
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async read(signal: AbortSignal): Promise<void> {
    const url = this.statusUrl();
    if (!url) return;
    const answer = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(READ_TIMEOUT_MS)]) });
    if (!answer.ok) {
      await answer.body?.cancel();
      throw new Error(`${url} answered ${answer.status}`);
    }
    this.last = { status: (await answer.json()) as AutoscalerStatus, readAt: Date.now() };
    if (this.failing) this.logger.debug('reading the autoscaler status again');
    this.failing = false;
  }
}

/** The fleet part of an answer's state header. */
export function serverStateOf(snapshot: FleetSnapshot | undefined, web?: string): ServerState {
  if (!snapshot) return web === undefined ? {} : { web };
  const { queue, workers } = snapshot.status;
  return {
    ...(web === undefined ? {} : { web }),
    queueVisible: queue.visible,
    queueInFlight: queue.inFlight,
    workersStarting: workers.starting,
    workersRunning: workers.running,
    stateAgeMs: Date.now() - snapshot.readAt,
  };
}
