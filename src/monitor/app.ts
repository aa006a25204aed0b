/**
 * The monitoring server's HTTP API: clients POST /reports (batches of what they saw, validated, bounded in
 * size and rate: garbage is refused with 400 and never stored), and the monitoring page reads the store's
 * queries under /api/. GET /metrics has its own Prometheus metrics, GET /healthz says it lives.
 */
import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { rateLimit } from 'express-rate-limit';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import { AppError } from '../shared/wire/errors.js';
import type { Logger } from '../shared/logger.js';
import { processRegistry } from '../shared/metrics.js';
import { errorHandler, methodNotAllowed } from '../http/http-errors.js';
import { metricsRoute } from '../http/metrics-route.js';
import { refuseDeclaredTooLarge } from '../http/report-size.js';
import {
  describeRefusal,
  FORWARD_TOKEN_HEADER,
  FORWARDED_CLIENT_HEADER,
  MAX_BATCH_BYTES,
  reportBatchSchema,
} from '../shared/wire/monitor-reports.js';
import type { MonitorStore, Window } from './store.js';

/** Longest window a query may ask for: the default retention (seven days). */
const MAX_WINDOW_MS = 7 * 86_400_000;

export interface MonitorAppDeps {
  readonly store: MonitorStore;
  readonly logger: Logger;
  /** Batches one client (IP address) may post per minute. */
  readonly maxBatchesPerMinute: number;
  /** Reports one client may store per minute, whatever its batches hold. */
  readonly maxReportsPerMinute: number;
  /** The web tier's token: a forwarded client address is believed only with it (MONITOR_FORWARD_TOKEN). */
  readonly forwardToken: string | undefined;
  readonly now?: () => number;
}

/**
 * The sources our own clients report as (the workload generator, the console, the benchmarks): each is a
 * label of the reports counter. Any other source is counted as `other`, so that no client can add series
 * (a random source per report grew the monitor by 180 MB and its /metrics to 25 MB).
 */
export const KNOWN_SOURCES: ReadonlySet<string> = new Set(['workload', 'console', 'bench', 'elasticity']);

export function buildMonitorApp(deps: MonitorAppDeps): Express {
  const now = deps.now ?? Date.now;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Whom a report is counted against: the address the web tier vouches for with its token, else the address
  // that connected. X-Forwarded-For is never believed: anyone who reaches the monitor could write it.
  const clientOf = (req: Request): string => {
    const token = req.get(FORWARD_TOKEN_HEADER);
    const forwarded = req.get(FORWARDED_CLIENT_HEADER);
    if (deps.forwardToken && token && forwarded && sameSecret(token, deps.forwardToken)) return forwarded;
    return req.socket.remoteAddress ?? 'unknown';
  };
  const quota = new ReportQuota(deps.maxReportsPerMinute, now);
  const registry = processRegistry();
  const received = new Counter({
    name: 'facefleet_monitor_reports_received_total',
    help: 'Reports stored, by the source that sent them (ours by name, any other as "other").',
    labelNames: ['source'],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'facefleet_monitor_batches_refused_total',
    help: 'Batches of reports refused, by error code (invalid, too large, too many).',
    labelNames: ['code'],
    registers: [registry],
  });
  new Gauge({
    name: 'facefleet_monitor_reports_stored',
    help: 'Reports in the store now.',
    registers: [registry],
    collect() {
      this.set(deps.store.size);
    },
  });

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.use(metricsRoute(registry));

  const perClient = rateLimit({
    windowMs: 60_000,
    limit: deps.maxBatchesPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => clientOf(req),
    // The key is the web tier's vouched-for address or the socket's, never a header a client writes itself.
    validate: { keyGeneratorIpFallback: false },
    handler: (_req, _res, next) => next(new AppError('TOO_MANY_REPORTS', { limit: deps.maxBatchesPerMinute })),
  });
  app.post(
    '/reports',
    refuseDeclaredTooLarge,
    perClient,
    express.json({ limit: MAX_BATCH_BYTES, strict: true }),
    (req, res) => {
      const parsed = reportBatchSchema.safeParse(req.body);
      if (!parsed.success) throw new AppError('REPORTS_INVALID', { reason: describeRefusal(parsed.error) });
      const client = clientOf(req);
      if (!quota.take(client, parsed.data.reports.length)) {
        res.set('Retry-After', String(quota.retryAfterSeconds(client)));
        throw new AppError('TOO_MANY_REPORTS_STORED', { limit: deps.maxReportsPerMinute });
      }
      deps.store.add(parsed.data.reports);
      for (const r of parsed.data.reports) received.inc({ source: KNOWN_SOURCES.has(r.source) ? r.source : 'other' });
      res.status(202).json({ stored: parsed.data.reports.length });
    },
  );
  app.all('/reports', methodNotAllowed('POST'));

  const query = (req: Request): Window => windowOf(req.query, now());
  app.get('/api/overview', (req, res) => {
    res.json(deps.store.overview(query(req)));
  });
  app.get('/api/timeline', (req, res) => {
    const w = query(req);
    res.json(deps.store.timeline(w, bucketOf(req.query, w)));
  });
  app.get('/api/stages', (req, res) => {
    res.json(deps.store.stages(query(req)));
  });
  app.get('/api/workers', (req, res) => {
    res.json(deps.store.workers(query(req)));
  });
  app.get('/api/web', (req, res) => {
    res.json(deps.store.webProcesses(query(req)));
  });
  app.get('/api/errors', (req, res) => {
    res.json(deps.store.errors(query(req)));
  });

  // A person who opens the monitor's address learns what it is, not the web tier's advice to POST images.
  app.get('/', (_req, res) => {
    res
      .type('text/plain; charset=utf-8')
      .send(
        'facefleet monitoring server: clients POST /reports (the answers they saw); GET /api/overview, ' +
          '/api/timeline, /api/stages, /api/workers, /api/web and /api/errors (?minutes=) read them back. ' +
          "The web console's Monitoring view shows them (the web tier forwards /monitoring/ here).\n",
      );
  });
  app.use((req, _res, next) => next(new AppError('NOT_FOUND', { path: req.path })));
  const handleErrors = errorHandler(deps.logger, { resultTimeoutSeconds: 0 });
  const countRefusals: ErrorRequestHandler = (err, req, res, next) => {
    const error = bodyError(err);
    if (req.path === '/reports') refused.inc({ code: error instanceof AppError ? error.code : 'INTERNAL' });
    handleErrors(error, req, res, next);
  };
  app.use(countRefusals);
  return app;
}

/** Compares two secrets in time that does not depend on where they differ. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Reports each client may store per minute (a fixed window per client). Clients quiet for a minute are
 * forgotten, so the map holds only the last minute's clients.
 */
export class ReportQuota {
  private readonly used = new Map<string, { since: number; count: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number,
  ) {}

  /** Counts `n` reports against `client`; false (and nothing counted) when that would pass the quota. */
  take(client: string, n: number): boolean {
    const t = this.now();
    if (this.used.size > 10_000) {
      for (const [key, entry] of this.used) if (t - entry.since >= 60_000) this.used.delete(key);
    }
    let entry = this.used.get(client);
    if (!entry || t - entry.since >= 60_000) {
      entry = { since: t, count: 0 };
      this.used.set(client, entry);
    }
    if (entry.count + n > this.perMinute) return false;
    entry.count += n;
    return true;
  }

  retryAfterSeconds(client: string): number {
    const entry = this.used.get(client);
    return entry ? Math.max(1, Math.ceil((entry.since + 60_000 - this.now()) / 1000)) : 1;
  }
}

/** What express.json() throws, as the catalogue's errors. */
function bodyError(err: unknown): unknown {
  const type = (err as { type?: string }).type;
  if (type === 'entity.too.large') return new AppError('REPORTS_TOO_LARGE', { limitBytes: MAX_BATCH_BYTES }, err);
  if (type === 'entity.parse.failed') return new AppError('REPORTS_INVALID', { reason: 'the body is not JSON' }, err);
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return new AppError('REPORTS_INVALID', { reason: 'the body must be UTF-8 JSON' }, err);
  return err;
}

const windowQuery = z.strictObject({
  /** The window ends now and started this many minutes ago… */
  minutes: z.coerce
    .number()
    .positive()
    .max(MAX_WINDOW_MS / 60_000)
    .optional(),
  /** …or runs from `since` to `until`, epoch milliseconds. */
  since: z.coerce.number().int().nonnegative().optional(),
  until: z.coerce.number().int().nonnegative().optional(),
  bucketSeconds: z.coerce.number().positive().max(86_400).optional(),
});

/** The query's window: `minutes` back from now (default 15), or `since`..`until` (until defaults to now). */
export function windowOf(raw: unknown, now: number): Window {
  const parsed = windowQuery.safeParse(raw);
  if (!parsed.success) throw new AppError('BAD_QUERY', { reason: describeRefusal(parsed.error) });
  const q = parsed.data;
  if (q.minutes !== undefined && q.since !== undefined)
    throw new AppError('BAD_QUERY', { reason: 'give either minutes or since, not both' });
  const until = q.until ?? now;
  const since = q.since ?? until - (q.minutes ?? 15) * 60_000;
  if (since >= until) throw new AppError('BAD_QUERY', { reason: 'since must be before until' });
  if (until - since > MAX_WINDOW_MS) throw new AppError('BAD_QUERY', { reason: 'the window is longer than 7 days' });
  return { since, until };
}

/** The timeline's bucket: `bucketSeconds`, or about 60 buckets over the window (at least one second). */
function bucketOf(raw: Record<string, unknown>, w: Window): number {
  const seconds = Number(raw['bucketSeconds']);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : Math.max(1000, Math.ceil((w.until - w.since) / 60));
}
