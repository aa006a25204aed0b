/**
 * A client's side of monitoring (the workload generator's and the console's): turn each answer into a report
 * (its own end-to-end time plus the server's metrics that rode on the answer) and post them to the monitor in
 * batches, one batch in the air at a time, never holding up a request. When the monitor is down or refuses,
 * the batch is dropped and counted; when reports pile up faster than they go, the oldest are dropped and
 * counted. Runs in Node.js and in browsers (only `fetch`).
 */
import {
  ERROR_CODE_HEADER,
  parseServerTiming,
  parseState,
  SERVER_TIMING_HEADER,
  STATE_HEADER,
} from '../shared/wire/answer-metrics.js';
import type { ReportInput } from '../shared/wire/monitor-reports.js';

export interface AnswerSeen {
  readonly source: string;
  /** When the request was sent, epoch milliseconds. */
  readonly at: number;
  readonly clientMs: number;
  /** 0 when no answer came. */
  readonly status: number;
  /** The answer's headers, by lower- or mixed-case name. */
  readonly header: (name: string) => string | null | undefined;
}

/** A report of one answer, with the server's metrics read from its headers. */
export function reportOf(a: AnswerSeen): ReportInput {
  const code = a.header(ERROR_CODE_HEADER) ?? undefined;
  return {
    at: Math.round(a.at),
    source: a.source,
    status: a.status,
    ...(code && /^[A-Z][A-Z0-9_]{0,47}$/.test(code) ? { code } : {}),
    clientMs: Math.round(a.clientMs * 10) / 10,
    server: parseServerTiming(a.header(SERVER_TIMING_HEADER)),
    state: parseState(a.header(STATE_HEADER)),
  };
}

export interface MonitorReporterOptions {
  /** Where batches are posted: the monitor's /reports, or the web tier's /monitoring/reports. */
  readonly url: string;
  /** Reports per batch; default 200 (the monitor takes up to 500). */
  readonly batchSize?: number;
  /** Longest a report waits for its batch, in milliseconds; default 1000. */
  readonly flushIntervalMs?: number;
  /** Reports held at most while the monitor is slow; default 5000. */
  readonly maxQueued?: number;
  /** A batch's post gives up after this, in milliseconds; default 5000. */
  readonly timeoutMs?: number;
}

export class MonitorReporter {
  private queue: ReportInput[] = [];
  private inFlight: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private counts = { sent: 0, dropped: 0 };
  /** The last reason a batch was dropped, for the client to show. */
  lastProblem: string | undefined;

  constructor(private readonly options: MonitorReporterOptions) {}

  /** Reports sent and dropped so far. */
  get stats(): { sent: number; dropped: number; queued: number } {
    return { ...this.counts, queued: this.queue.length };
  }

  /** Queues a report; it goes with the next batch. Never throws, never waits. */
  add(report: ReportInput): void {
    this.queue.push(report);
    const max = this.options.maxQueued ?? 5000;
    if (this.queue.length > max) {
      const excess = this.queue.length - max;
      this.queue.splice(0, excess);
      this.counts.dropped += excess;
      this.lastProblem = 'reports came faster than the monitor took them';
    }
    if (this.queue.length >= (this.options.batchSize ?? 200)) this.flush();
    else this.timer ??= unrefd(setTimeout(() => this.flush(), this.options.flushIntervalMs ?? 1000));
  }

  /** Sends what is queued, waiting at most `timeoutMs` for it to go; what is left is dropped and counted. */
  async close(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.queue.length > 0 || this.inFlight) && Date.now() < deadline) {
      this.flush();
      await Promise.race([this.inFlight, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
    }
    clearTimeout(this.timer);
    this.counts.dropped += this.queue.length;
    this.queue = [];
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.batchSize ?? 200);
    this.inFlight = this.post(batch).finally(() => {
      this.inFlight = undefined;
      if (this.queue.length > 0) this.timer ??= unrefd(setTimeout(() => this.flush(), 0));
    });
  }

  private async post(batch: ReportInput[]): Promise<void> {
    try {
      const res = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reports: batch }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      if (res.ok) {
        this.counts.sent += batch.length;
        // Read to its end, short as it is: cancelling the body aborted the request (a browser's devtools showed
        // every report as net::ERR_ABORTED).
        await res.arrayBuffer();
        return;
      }
      this.lastProblem = `the monitor answered ${res.status}: ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      this.lastProblem = `the monitor did not answer: ${(err as Error).message}`;
    }
    this.counts.dropped += batch.length;
  }
}

/** A timer that does not keep Node.js alive (browsers' timers are numbers, and have no unref). */
function unrefd<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
