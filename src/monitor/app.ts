/**
 * The monitoring server's HTTP API: clients POST /reports (batches of what they saw, validated, bounded in
 * size and rate: garbage is refused with 400 and never stored), and the monitoring page reads the store's
 * queries under /api/. GET /metrics has its own Prometheus metrics, GET /healthz says it lives.
 */
import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import { rateLimit } from 'express-rate-limit';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import { AppError } from '../shared/wire/errors.js';
import type { Logger } from '../shared/logger.js';
import { processRegistry } from '../shared/metrics.js';
import { errorHandler, methodNotAllowed } from '../http/http-errors.js';
import { metricsRoute } from '../http/metrics-route.js';
import { describeRefusal, MAX_BATCH_BYTES, reportBatchSchema } from '../shared/wire/monitor-reports.js';
import type { MonitorStore, Window } from './store.js';

/** Longest window a query may ask for: the default retention (seven days). */
const MAX_WINDOW_MS = 7 * 86_400_000;

export interface MonitorAppDeps {
  readonly store: MonitorStore;
  readonly logger: Logger;
  /** Batches one client (IP address) may post per minute. */
  readonly maxBatchesPerMinute: number;
  readonly now?: () => number;
}

export function buildMonitorApp(deps: MonitorAppDeps): Express {
  const now = deps.now ?? Date.now;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // The web tier forwards reports from its loopback: its clients' addresses come in X-Forwarded-For, and each
  // client is rate-limited on its own.
  app.set('trust proxy', 'loopback');
  const registry = processRegistry();
  const received = new Counter({
    name: 'facefleet_monitor_reports_received_total',
    help: 'Reports stored, by the source that sent them.',
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
    handler: (_req, _res, next) => next(new AppError('TOO_MANY_REPORTS', { limit: deps.maxBatchesPerMinute })),
  });
  app.post('/reports', perClient, express.json({ limit: MAX_BATCH_BYTES, strict: true }), (req, res) => {
    const parsed = reportBatchSchema.safeParse(req.body);
    if (!parsed.success) throw new AppError('REPORTS_INVALID', { reason: describeRefusal(parsed.error) });
    deps.store.add(parsed.data.reports);
    for (const r of parsed.data.reports) received.inc({ source: r.source });
    res.status(202).json({ stored: parsed.data.reports.length });
  });
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
