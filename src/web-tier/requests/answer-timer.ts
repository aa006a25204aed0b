/**
 * The stages of one answer, as the web tier and the worker that handled it measured them, and the headers
 * that carry them back on the answer (Server-Timing and the state header; see shared/wire/answer-metrics.ts).
 * Every response gets them, errors included: the middleware adds them as the headers go out.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHandler, Response } from 'express';
import onHeaders from 'on-headers';
import { roundMs } from '../../shared/wire/timing.js';
import {
  formatServerTiming,
  formatState,
  SERVER_TIMING_HEADER,
  STATE_HEADER,
  WORKER_STAGES,
  type ServerState,
  type Stage,
  type StageDurations,
} from '../../shared/wire/answer-metrics.js';

export class AnswerTimer {
  readonly startedAt = performance.now();
  private readonly stages: StageDurations = {};
  /** The worker that answered, and the gallery version it matched against. */
  worker: string | undefined;
  gallery: number | undefined;
  collection: string | undefined;

  /** Records a stage. One recorded twice (the photos of one enrollment, in parallel) keeps the longest. */
  record(stage: Exclude<Stage, 'total'>, ms: number): void {
    this.stages[stage] = Math.max(this.stages[stage] ?? 0, ms);
  }

  /** The stages a worker reported in its response message (`downloadMs`, `detectMs`, …). */
  recordWorker(
    timings: Readonly<Record<string, number>>,
    workerId: string,
    galleryVersion?: number,
    collection?: string,
  ): void {
    for (const stage of WORKER_STAGES) {
      const ms = timings[`${stage}Ms`];
      if (ms !== undefined) this.record(stage, ms);
    }
    this.worker = workerId;
    if (galleryVersion !== undefined) this.gallery = galleryVersion;
    if (collection !== undefined) this.collection = collection;
  }

  /** Every stage recorded, and the total so far. */
  durations(): StageDurations {
    return { ...this.stages, total: performance.now() - this.startedAt };
  }

  /** The web tier's stages and the worker's, as a JSON answer's `timings` shows them. */
  answerTimings(worker: Readonly<Record<string, number>>) {
    const d = this.durations();
    return {
      validateMs: roundMs(d.validate ?? 0),
      uploadMs: roundMs(d.upload ?? 0),
      enqueueMs: roundMs(d.enqueue ?? 0),
      waitMs: roundMs(d.wait ?? 0),
      totalMs: roundMs(d.total ?? 0),
      worker,
    };
  }
}

/** The request's timer (the answer-headers middleware put it there). */
export function timerOf(res: Response): AnswerTimer {
  const timer = res.locals['timer'] as AnswerTimer | undefined;
  if (!timer) throw new Error('answerHeaders() must run before the routes');
  return timer;
}

export interface AnswerHeadersDeps {
  /** The fleet part of the state (queue depth, workers); empty while unknown. */
  readonly fleetState: () => ServerState;
  /** Told of every finished answer, for the Prometheus metrics. */
  readonly onAnswered: (res: Response, timer: AnswerTimer) => void;
}

/**
 * The headers of an answer that Node writes before Express sees a request (a client too slow, too many
 * connections): its total is the time since the client connected.
 */
export function rawAnswerHeaders(
  server: Server,
  fleetState: () => ServerState,
): (socket: Socket) => Record<string, string> {
  const connectedAt = new WeakMap<Socket, number>();
  // Registered before the listener that may refuse the connection at once.
  server.prependListener('connection', (socket: Socket) => connectedAt.set(socket, performance.now()));
  return (socket) => {
    const since = connectedAt.get(socket) ?? performance.now();
    return {
      [SERVER_TIMING_HEADER]: formatServerTiming({ total: performance.now() - since }),
      [STATE_HEADER]: formatState(fleetState()),
      'Timing-Allow-Origin': '*',
      'X-Content-Type-Options': 'nosniff',
    };
  };
}

export function answerHeaders(deps: AnswerHeadersDeps): RequestHandler {
  return (_req, res, next) => {
    const timer = new AnswerTimer();
    res.locals['timer'] = timer;
    onHeaders(res, () => {
      res.setHeader(SERVER_TIMING_HEADER, formatServerTiming(timer.durations()));
      res.setHeader(
        STATE_HEADER,
        formatState({
          ...deps.fleetState(),
          worker: timer.worker,
          gallery: timer.gallery,
          collection: timer.collection,
        }),
      );
      // Lets a page of another origin (a dashboard) read the timings through the Resource Timing API: they
      // say how long stages took, nothing about what was sent.
      res.setHeader('Timing-Allow-Origin', '*');
      // Every answer is what its Content-Type says (a label in text/plain is never sniffed into HTML).
      res.setHeader('X-Content-Type-Options', 'nosniff');
    });
    res.on('finish', () => deps.onAnswered(res, timer));
    next();
  };
}
