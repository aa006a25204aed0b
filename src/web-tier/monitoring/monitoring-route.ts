/**
 * /monitoring/: the monitoring server's API, forwarded by the web tier, so that the console (a page of this
 * origin) and clients that know only the web tier reach it. Reports are forwarded as they came (the monitor
 * validates them), with the client's address for its rate limit; queries with their query string. When the
 * monitor is not configured or does not answer, 503 says so; the web tier's own work is never held up.
 */
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { ERROR_CODE_HEADER } from '../../shared/wire/answer-metrics.js';
import { AppError } from '../../shared/wire/errors.js';
import { MAX_BATCH_BYTES } from '../../shared/wire/monitor-reports.js';
import { mount } from '../api/operation.js';
import { MONITORING_API } from './monitoring-api.js';
import { FORWARD_TOKEN_HEADER, FORWARDED_CLIENT_HEADER } from '../../shared/wire/monitor-reports.js';
import { refuseDeclaredTooLarge } from '../../http/report-size.js';

/** A monitor that does not answer within this is treated as down. */
const FORWARD_TIMEOUT_MS = 5000;

export function monitoringRoute(monitorUrl: () => string | undefined, forwardToken: string | undefined): Router {
  const router = Router();
  const forward = async (req: Request, res: Response, path: string, body?: Buffer) => {
    const base = monitorUrl();
    if (!base) throw new AppError('MONITOR_UNAVAILABLE', { reason: 'none is configured: set MONITOR_URL' });
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    let answer: globalThis.Response;
    try {
      answer = await fetch(`${base}${path}${query}`, {
        method: req.method,
        headers: {
          accept: req.get('accept') ?? 'application/json',
          // The client's address, vouched for with the token the monitor knows (it believes no other).
          ...(forwardToken ? { [FORWARD_TOKEN_HEADER]: forwardToken, [FORWARDED_CLIENT_HEADER]: req.ip ?? '' } : {}),
          ...(body ? { 'content-type': req.get('content-type') ?? 'application/json' } : {}),
        },
        body,
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      });
    } catch (err) {
      throw new AppError('MONITOR_UNAVAILABLE', { reason: `${base} did not answer` }, err);
    }
    res.status(answer.status);
    res.type(answer.headers.get('content-type') ?? 'text/plain');
    for (const header of ['retry-after', 'ratelimit', 'ratelimit-policy', ERROR_CODE_HEADER]) {
      const value = answer.headers.get(header);
      if (value) res.set(header, value);
    }
    res.send(Buffer.from(await answer.arrayBuffer()));
  };

  /** A query of the monitoring page (src/monitor/app.ts), forwarded with its query string. */
  const query =
    (name: string): RequestHandler =>
    async (req, res) => {
      await forward(req, res, `/api/${name}`);
    };
  mount(router, MONITORING_API, {
    '/monitoring/reports': {
      post: [
        refuseDeclaredTooLarge,
        express.raw({ type: () => true, limit: MAX_BATCH_BYTES }),
        async (req, res) => {
          await forward(req, res, '/reports', Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
        },
      ],
    },
    '/monitoring/api/overview': { get: query('overview') },
    '/monitoring/api/timeline': { get: query('timeline') },
    '/monitoring/api/stages': { get: query('stages') },
    '/monitoring/api/workers': { get: query('workers') },
    '/monitoring/api/web': { get: query('web') },
    '/monitoring/api/errors': { get: query('errors') },
  });
  // What express.raw() throws for a batch over the limit, as the catalogue's error.
  const tooLarge: ErrorRequestHandler = (err, _req, _res, next) =>
    next(
      (err as { type?: string }).type === 'entity.too.large'
        ? new AppError('REPORTS_TOO_LARGE', { limitBytes: MAX_BATCH_BYTES }, err)
        : err,
    );
  router.use('/monitoring', tooLarge);
  return router;
}
