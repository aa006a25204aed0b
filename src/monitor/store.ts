/**
 * The monitor's store: the reports clients forwarded, in SQLite (node:sqlite, built into Node.js), one row per
 * answer with a column per stage, bounded by age and by count. Its queries are what the monitoring page shows:
 * latency percentiles over time, per stage, per worker, network time (the client's total minus the server's)
 * and errors by code. Percentiles are computed from the rows of the window asked for, at most
 * MAX_QUERY_ROWS of them (the newest).
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { STAGES, type Stage } from '../shared/wire/answer-metrics.js';
import { percentiles, type Percentiles } from '../shared/percentiles.js';
import type { Report } from '../shared/wire/monitor-reports.js';

/** Rows one query reads at most; a window holding more is answered from its newest rows, and says so. */
export const MAX_QUERY_ROWS = 200_000;
/** Most buckets of a timeline, whatever the window. */
export const MAX_TIMELINE_BUCKETS = 720;

export interface MonitorStoreOptions {
  /** The SQLite file; `:memory:` for none. */
  readonly path: string;
  /** Reports older than this are deleted, in milliseconds. */
  readonly retentionMs: number;
  /** Most reports kept; the oldest go first. */
  readonly maxReports: number;
  readonly now?: () => number;
}

export interface Window {
  /** Epoch milliseconds, inclusive. */
  readonly since: number;
  /** Epoch milliseconds, exclusive. */
  readonly until: number;
}

interface Row {
  at: number;
  status: number;
  code: string | null;
  client_ms: number;
  network_ms: number | null;
  worker: string | null;
  web: string | null;
  queue_visible: number | null;
  queue_in_flight: number | null;
  workers_starting: number | null;
  workers_running: number | null;
  [stage: `${string}_ms`]: number | null;
}

const column = (stage: Stage) => `${stage}_ms`;
/** Prune after this many inserts, besides the periodic prune. */
const PRUNE_EVERY_INSERTS = 1000;

export class MonitorStore {
  private readonly db: DatabaseSync;
  private readonly insertRow: StatementSync;
  private readonly now: () => number;
  private insertsSincePrune = 0;

  constructor(private readonly options: MonitorStoreOptions) {
    this.now = options.now ?? Date.now;
    this.db = new DatabaseSync(options.path);
    // WAL: readers (the page's queries) never wait for the writer (a batch of reports), and a crash loses at
    // most the batch being written.
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS reports (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        source TEXT NOT NULL,
        status INTEGER NOT NULL,
        code TEXT,
        client_ms REAL NOT NULL,
        network_ms REAL,
        worker TEXT,
        gallery INTEGER,
        queue_visible INTEGER,
        queue_in_flight INTEGER,
        workers_starting INTEGER,
        workers_running INTEGER,
        web TEXT,
        ${STAGES.map((s) => `${column(s)} REAL`).join(',\n        ')}
      );
      CREATE INDEX IF NOT EXISTS reports_at ON reports (at);
    `);
    // A database from a version with fewer stages gets their columns (empty for its old reports).
    const present = new Set(
      (this.db.prepare('PRAGMA table_info(reports)').all() as { name: string }[]).map((c) => c.name),
    );
    for (const s of STAGES)
      if (!present.has(column(s))) this.db.exec(`ALTER TABLE reports ADD COLUMN ${column(s)} REAL`);
    // And one from before several web processes gets the column that says which took each request.
    if (!present.has('web')) this.db.exec('ALTER TABLE reports ADD COLUMN web TEXT');
    const columns = [
      'at',
      'received_at',
      'source',
      'status',
      'code',
      'client_ms',
      'network_ms',
      'worker',
      'gallery',
      'queue_visible',
      'queue_in_flight',
      'workers_starting',
      'workers_running',
      'web',
      ...STAGES.map(column),
    ];
    this.insertRow = this.db.prepare(
      `INSERT INTO reports (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
  }

  /** Stores a batch of validated reports, all or none. */
  add(reports: readonly Report[]): void {
    const receivedAt = this.now();
    this.db.exec('BEGIN');
    try {
      for (const r of reports) {
        const serverTotal = r.server.total;
        this.insertRow.run(
          r.at,
          receivedAt,
          r.source,
          r.status,
          r.code ?? null,
          r.clientMs,
          // The time the answer spent outside the server: on the wire, in the client, in proxies.
          serverTotal === undefined ? null : Math.max(0, r.clientMs - serverTotal),
          r.state.worker ?? null,
          r.state.gallery ?? null,
          r.state.queueVisible ?? null,
          r.state.queueInFlight ?? null,
          r.state.workersStarting ?? null,
          r.state.workersRunning ?? null,
          r.state.web ?? null,
          ...STAGES.map((s) => r.server[s] ?? null),
        );
      }
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
    this.insertsSincePrune += reports.length;
    if (this.insertsSincePrune >= PRUNE_EVERY_INSERTS) this.prune();
  }

  /** Deletes reports past the retention age and the oldest beyond the cap; returns how many went. */
  prune(): number {
    this.insertsSincePrune = 0;
    const byAge = this.db
      .prepare('DELETE FROM reports WHERE received_at < ?')
      .run(this.now() - this.options.retentionMs);
    const byCount = this.db
      .prepare('DELETE FROM reports WHERE id <= (SELECT id FROM reports ORDER BY id DESC LIMIT 1 OFFSET ?)')
      .run(this.options.maxReports);
    return Number(byAge.changes) + Number(byCount.changes);
  }

  get size(): number {
    return Number((this.db.prepare('SELECT count(*) AS n FROM reports').get() as { n: number }).n);
  }

  /** Answers, errors and the client's, the server's and the network's latency over the window. */
  overview(w: Window) {
    const { rows, truncated } = this.rows(w);
    return {
      ...w,
      truncated,
      answers: rows.length,
      errors: rows.filter(isError).length,
      clientMs: percentiles(rows.map((r) => r.client_ms)),
      serverMs: percentiles(present(rows.map((r) => r.total_ms))),
      networkMs: percentiles(present(rows.map((r) => r.network_ms))),
    };
  }

  /** The window cut into buckets of `bucketMs`, oldest first; buckets without answers are left out. */
  timeline(w: Window, bucketMs: number) {
    const size = Math.max(bucketMs, Math.ceil((w.until - w.since) / MAX_TIMELINE_BUCKETS));
    const { rows, truncated } = this.rows(w);
    const buckets = new Map<number, Row[]>();
    for (const r of rows) {
      const start = w.since + Math.floor((r.at - w.since) / size) * size;
      let bucket = buckets.get(start);
      if (!bucket) buckets.set(start, (bucket = []));
      bucket.push(r);
    }
    return {
      ...w,
      bucketMs: size,
      truncated,
      buckets: [...buckets.entries()]
        .sort(([a], [b]) => a - b)
        .map(([start, b]) => ({
          start,
          answers: b.length,
          errors: b.filter(isError).length,
          clientMs: percentiles(b.map((r) => r.client_ms)),
          serverMs: percentiles(present(b.map((r) => r.total_ms))),
          networkMs: percentiles(present(b.map((r) => r.network_ms))),
          /** The most seen in the bucket: the fleet and the backlog at their peak. */
          workersRunning: max(present(b.map((r) => r.workers_running))),
          queued: max(present(b.map((r) => sum(r.queue_visible, r.queue_in_flight)))),
        })),
    };
  }

  /** Each stage's latency over the window, in the order stages happen. */
  stages(w: Window) {
    const { rows, truncated } = this.rows(w);
    const stages: Record<string, Percentiles> = {};
    for (const s of STAGES) {
      const values = present(rows.map((r) => r[`${s}_ms`]));
      if (values.length > 0) stages[s] = percentiles(values);
    }
    return { ...w, truncated, stages };
  }

  /** Each worker that answered in the window: answers, errors, and its server-side latency. */
  workers(w: Window) {
    const { rows, truncated } = this.rows(w);
    return { ...w, truncated, workers: byProcess(rows, 'worker').map(({ id, ...rest }) => ({ worker: id, ...rest })) };
  }

  /** Each web process that took requests in the window: answers, errors, and the server-side latency. */
  webProcesses(w: Window) {
    const { rows, truncated } = this.rows(w);
    return { ...w, truncated, web: byProcess(rows, 'web').map(({ id, ...rest }) => ({ web: id, ...rest })) };
  }

  /** Errors in the window by status and code, most frequent first. */
  errors(w: Window) {
    const rows = this.db
      .prepare(
        `SELECT status, code, count(*) AS count FROM reports
         WHERE at >= ? AND at < ? AND (status >= 400 OR status = 0)
         GROUP BY status, code ORDER BY count DESC, status, code`,
      )
      .all(w.since, w.until) as { status: number; code: string | null; count: number }[];
    return { ...w, errors: rows.map((r) => ({ status: r.status, code: r.code, count: Number(r.count) })) };
  }

  close(): void {
    this.db.close();
  }

  private rows(w: Window): { rows: Row[]; truncated: boolean } {
    const rows = this.db
      .prepare(`SELECT * FROM reports WHERE at >= ? AND at < ? ORDER BY at DESC LIMIT ?`)
      .all(w.since, w.until, MAX_QUERY_ROWS + 1) as unknown as Row[];
    const truncated = rows.length > MAX_QUERY_ROWS;
    if (truncated) rows.pop();
    return { rows: rows.reverse(), truncated };
  }
}

function isError(r: Row): boolean {
  return r.status >= 400 || r.status === 0;
}

function present(values: readonly (number | null | undefined)[]): number[] {
  return values.filter((v): v is number => v !== null && v !== undefined);
}

function max(values: readonly number[]): number | null {
  return values.length === 0 ? null : Math.max(...values);
}

function sum(a: number | null, b: number | null): number | null {
  return a === null && b === null ? null : (a ?? 0) + (b ?? 0);
}

/** The rows grouped by a process column (a worker, a web process): answers, errors, server-side latency. */
function byProcess(rows: readonly Row[], key: 'worker' | 'web') {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const id = r[key];
    if (id === null) continue;
    let list = groups.get(id);
    if (!list) groups.set(id, (list = []));
    list.push(r);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([id, list]) => ({
      id,
      answers: list.length,
      errors: list.filter(isError).length,
      serverMs: percentiles(present(list.map((r) => r.total_ms))),
    }));
}
