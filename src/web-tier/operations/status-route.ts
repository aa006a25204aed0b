/**
 * GET /status: the autoscaler's last decision (queue depth, workers by state, desired, cap, time), read from
 * the autoscaler's own endpoint so that a person or a script watching the fleet needs only the web tier; and
 * the web processes (web-processes.ts), with the one that answered named.
 */
import type { RequestHandler } from 'express';
import { AppError } from '../../shared/wire/errors.js';

/** The web tier's part of GET /status. */
export interface WebTierStatus {
  /** The process that answered. */
  readonly answeredBy: string;
  readonly processes: readonly {
    readonly id: string;
    readonly pid?: number;
    /** Another instance's (from its reply queue's tags); absent for this machine's. */
    readonly host?: string;
    readonly replyQueue: string;
    readonly waiting?: number;
    readonly metricsUrl?: string;
  }[];
}

/** The status must answer quickly even when the autoscaler hangs. */
const STATUS_TIMEOUT_MS = 2000;

export function statusHandler(statusUrl: () => string | undefined, web: () => WebTierStatus): RequestHandler {
  return async (_req, res) => {
    const url = statusUrl();
    if (!url) throw new AppError('AUTOSCALER_UNAVAILABLE', { reason: 'it is starting' });
    let answer: Response;
    try {
      answer = await fetch(url, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
    } catch (err) {
      throw new AppError('AUTOSCALER_UNAVAILABLE', { reason: `${url} did not answer` }, err);
    }
    if (!answer.ok) throw new AppError('AUTOSCALER_UNAVAILABLE', { reason: (await answer.text()).slice(0, 200) });
    res.json({ ...((await answer.json()) as object), web: web() });
  };
}
