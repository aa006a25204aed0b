/**
 * The web tier's last seconds of recognitions, in memory: answers and errors per second and latency
 * percentiles over a short sliding window, for the console's live view (GET /live). Counted as answers go out,
 * so reading it costs nothing but the sort of a few seconds' latencies.
 */
import { percentiles, type Percentiles } from '../../shared/percentiles.js';

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

/** One process's answers in the window: what several processes' views are summed from. */
export interface AnswerWindow {
  readonly answers: number;
  readonly errors: number;
  /** The answers' latencies, milliseconds (the newest MAX_WINDOW_SAMPLES). */
  readonly latenciesMs: readonly number[];
}

/** Latencies a window carries at most (a web process passes its window to the others every second). */
const MAX_WINDOW_SAMPLES = 5000;

/** The live view of one or several processes' windows, summed. */
export function liveSummary(windows: readonly AnswerWindow[], windowMs = LIVE_WINDOW_MS): LiveAnswers {
  const seconds = windowMs / 1000;
  const round = (n: number) => Math.round(n * 10) / 10;
  const total = (f: (w: AnswerWindow) => number) => windows.reduce((sum, w) => sum + f(w), 0);
  return {
    windowMs,
    answersPerSecond: round(total((w) => w.answers) / seconds),
    errorsPerSecond: round(total((w) => w.errors) / seconds),
    latencyMs: percentiles(windows.flatMap((w) => w.latenciesMs)),
  };
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
    return liveSummary([this.window()], this.windowMs);
  }

  window(): AnswerWindow {
    this.prune();
    return {
      answers: this.answers.length,
      errors: this.answers.filter((a) => a.error).length,
      latenciesMs: this.answers.slice(-MAX_WINDOW_SAMPLES).map((a) => a.ms),
    };
  }

  private prune(): void {
    const oldest = this.now() - this.windowMs;
    let drop = 0;
    while (drop < this.answers.length && this.answers[drop]!.at < oldest) drop++;
    if (drop > 0) this.answers = this.answers.slice(drop);
  }
}
