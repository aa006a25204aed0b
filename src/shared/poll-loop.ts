/**
 * The loop every long-running poller shares: the worker's receives on the request queue, the web tier's on
 * the response queue, the autoscaler's rounds, a worker's gallery refresh, `npm start`'s retention sweep. Run a round, pause, run the next; after a failure, log it and
 * wait longer; on stop, end after the round in progress (or abort it, where that is safe) and resolve once
 * the loop has ended. A failure never ends the loop; only `stop` does.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface PollLoopOptions {
  /**
   * One round: a receive and what it brought, or one decision. Its signal aborts on `stop` when
   * `abortRoundOnStop` is set, and never otherwise.
   */
  readonly round: (signal: AbortSignal) => Promise<void>;
  /**
   * Pause after a round that succeeded, in milliseconds, or a function asked after each round; default 0 (a long
   * poll paces itself).
   */
  readonly intervalMs?: number | (() => number);
  /** Pause once before the first round too (a periodic job whose first run happened at start, or need not). */
  readonly pauseFirst?: boolean;
  /** Pause after the `failures`-th failed round in a row, in milliseconds. */
  readonly backoffMs: (failures: number) => number;
  /** Told of each failed round while the loop runs (a round that fails because the loop stopped is not). */
  readonly onError: (err: unknown, failures: number) => void;
  /**
   * Whether `stop` aborts the round in progress. A worker's receive must not be aborted: on SQS and fauxqs an
   * aborted long poll can still take a message, which then stays hidden for the whole visibility timeout. The
   * web tier's receives may be (what they take comes back), so that it stops at once.
   */
  readonly abortRoundOnStop: boolean;
}

export class PollLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private stopping = new AbortController();

  constructor(private readonly options: PollLoopOptions) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.loop = this.run();
  }

  /** Ends the loop (after the round in progress, or aborting it) and resolves once it has ended. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const roundSignal = this.options.abortRoundOnStop ? this.stopping.signal : new AbortController().signal;
    let failures = 0;
    if (this.options.pauseFirst) await this.pause(this.interval());
    while (this.running) {
      try {
        await this.options.round(roundSignal);
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        failures++;
        this.options.onError(err, failures);
      }
      if (!this.running) break;
      await this.pause(failures === 0 ? this.interval() : this.options.backoffMs(failures));
    }
  }

  private interval(): number {
    const { intervalMs = 0 } = this.options;
    return typeof intervalMs === 'function' ? intervalMs() : intervalMs;
  }

  /** Waits, unless the loop is stopped first. */
  private async pause(ms: number): Promise<void> {
    if (ms > 0) await sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }
}

/** Back-off that doubles from `baseMs` with each failure in a row, up to `maxMs`. */
export function doublingBackoff(baseMs: number, maxMs: number): (failures: number) => number {
  return (failures) => Math.min(maxMs, baseMs * 2 ** failures);
}
