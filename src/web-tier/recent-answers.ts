/**
 * The web tier's last seconds of recognitions, in memory: answers and errors per second and latency
 * percentiles over a short sliding window, for the console's live view (GET /live). Counted as answers go out,
 * so reading it costs nothing but the sort of a few seconds' latencies.
 */
import { percentiles, type Percentiles } from '../shared/percentiles.js';

/** The live view's window: long enough to smooth a second's jitter, short enough to follow a burst. */
export const LIVE_WINDOW_MS = 5000;

interface Answered {
  readonly at: number;
  readonly ms: number;
  readonly error: boolean;
}

export interface LiveAnswers {
  readonly windowMs: number;
  readonly answersPerSecond: number;
  readonly errorsPerSecond: number;
  readonly latencyMs: Percentiles;
}

export class RecentAnswers {
  private answers: Answered[] = [];

  constructor(
    private readonly windowMs = LIVE_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  add(ms: number, status: number): void {
    this.answers.push({ at: this.now(), ms, error: status >= 400 });
    this.prune();
  }

  summary(): LiveAnswers {
    this.prune();
    const seconds = this.windowMs / 1000;
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      windowMs: this.windowMs,
      answersPerSecond: round(this.answers.length / seconds),
      errorsPerSecond: round(this.answers.filter((a) => a.error).length / seconds),
      latencyMs: percentiles(this.answers.map((a) => a.ms)),
    };
  }

  private prune(): void {
    const oldest = this.now() - this.windowMs;
    let drop = 0;
    while (drop < this.answers.length && this.answers[drop]!.at < oldest) drop++;
    if (drop > 0) this.answers = this.answers.slice(drop);
  }
}
