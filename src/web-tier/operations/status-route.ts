/**
 * GET /status: the autoscaler's last decision (queue depth, workers by state, desired, cap, time), read from
 * the autoscaler's own endpoint so that a person or a script watching the fleet needs only the web tier; and
 * the web processes (web-processes.ts), with the one that answered named.
 */
import type { RequestHandler } from 'express';
import { AppError } from '../../shared/wire/errors.js';
import { carriesApiKey } from '../requests/api-key.js';

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

/**
 * GET /status. Where each worker's and web process's metrics are (loopback addresses and ports) is for operators:
 * with API_KEY set, only a request that carries the key sees them.
 */
export function statusHandler(
  statusUrl: () => string | undefined,
  web: () => WebTierStatus,
  apiKey: string | undefined,
): RequestHandler {
  return async (req, res) => {
    const url = statusUrl();
    if (!url) throw new AppError('AUTOSCALER_UNAVAILABLE', { reason: 'it is starting' });
    let answer: Response;
    try {
      answer = await fetch(url, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
    } catch (err) {
      throw new AppError('AUTOSCALER_UNAVAILABLE', { reason: `${url} did not answer` }, err);
    }
    if (!answer.ok) throw new AppError('AUTOSCALER_UNAVAILABLE', { reason: (await answer.text()).slice(0, 200) });
    const status = { ...((await answer.json()) as { fleet?: readonly object[] }), web: web() };
    if (apiKey !== undefined && !carriesApiKey(req, apiKey)) {
      res.json({
        ...status,
        ...(status.fleet ? { fleet: status.fleet.map(withoutAddress) } : {}),
        web: { ...status.web, processes: status.web.processes.map(withoutAddress) },
      });
      return;
    }
    res.json(status);
  };
}

/** An entry of /status without where its metrics are. */
function withoutAddress<T extends object>(entry: T): Omit<T, 'metricsUrl'> {
  return Object.fromEntries(Object.entries(entry).filter(([key]) => key !== 'metricsUrl')) as Omit<T, 'metricsUrl'>;
}
