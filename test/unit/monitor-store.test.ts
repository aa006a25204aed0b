import { afterEach, describe, expect, it } from 'vitest';
import type { Report } from '../../src/shared/wire/monitor-reports.js';
import { reportBatchSchema } from '../../src/shared/wire/monitor-reports.js';
import { MonitorStore } from '../../src/monitor/store.js';
import { percentiles } from '../../src/shared/percentiles.js';

const T0 = Date.UTC(2026, 10, 27, 12);

function report(over: Partial<Report> & { at: number }): Report {
  return { source: 'workload', status: 200, clientMs: 100, server: {}, state: {}, ...over };
}

describe('percentiles', () => {
  it.each([
    [[], { count: 0, p50: null, p90: null, p99: null, max: null }],
    [[5], { count: 1, p50: 5, p90: 5, p99: 5, max: 5 }],
    [[4, 1, 3, 2], { count: 4, p50: 2, p90: 4, p99: 4, max: 4 }],
    [Array.from({ length: 100 }, (_, i) => 100 - i), { count: 100, p50: 50, p90: 90, p99: 99, max: 100 }],
    [[0.123, 0.126], { count: 2, p50: 0.1, p90: 0.1, p99: 0.1, max: 0.1 }],
  ])('nearest rank of %j', (samples, expected) => {
    expect(percentiles(samples)).toEqual(expected);
  });
});

describe('the monitor store', () => {
  let store: MonitorStore;
  let now = T0;
  const open = (o: { maxReports?: number; retentionMs?: number } = {}) =>
    (store = new MonitorStore({
      path: ':memory:',
      retentionMs: o.retentionMs ?? 3_600_000,
      maxReports: o.maxReports ?? 1000,
      now: () => now,
    }));
  afterEach(() => {
    store.close();
    now = T0;
  });

  it('answers an empty window with zero answers and no percentiles', () => {
    open();
    expect(store.overview({ since: T0 - 60_000, until: T0 })).toMatchObject({
      answers: 0,
      errors: 0,
      clientMs: { count: 0, p50: null },
    });
    expect(store.timeline({ since: T0 - 60_000, until: T0 }, 1000).buckets).toEqual([]);
  });

  it('computes client, server and network latency, and counts errors (status 0 is a failed connection)', () => {
    open();
    store.add([
      report({ at: T0, clientMs: 100, server: { total: 80 } }),
      report({ at: T0 + 1, clientMs: 200, server: { total: 150 } }),
      report({ at: T0 + 2, clientMs: 50, status: 422, code: 'NO_FACE', server: { total: 45 } }),
      report({ at: T0 + 3, clientMs: 5000, status: 0 }),
    ]);
    const o = store.overview({ since: T0, until: T0 + 10 });
    expect(o).toMatchObject({ answers: 4, errors: 2, truncated: false });
    expect(o.clientMs).toEqual({ count: 4, p50: 100, p90: 5000, p99: 5000, max: 5000 });
    expect(o.serverMs).toEqual({ count: 3, p50: 80, p90: 150, p99: 150, max: 150 });
    // Network time: the client's total minus the server's, for answers that carried one.
    expect(o.networkMs).toEqual({ count: 3, p50: 20, p90: 50, p99: 50, max: 50 });
  });

  it('keeps the window: since inclusive, until exclusive', () => {
    open();
    store.add([report({ at: T0 - 1 }), report({ at: T0 }), report({ at: T0 + 999 }), report({ at: T0 + 1000 })]);
    expect(store.overview({ since: T0, until: T0 + 1000 }).answers).toBe(2);
  });

  it('cuts a timeline into buckets with the fleet and the backlog at their peak', () => {
    open();
    store.add([
      report({ at: T0 + 100, clientMs: 10, state: { workersRunning: 1, queueVisible: 3, queueInFlight: 1 } }),
      report({ at: T0 + 900, clientMs: 30, state: { workersRunning: 2, queueVisible: 0, queueInFlight: 2 } }),
      report({ at: T0 + 2500, clientMs: 20, status: 504, code: 'RESULT_TIMEOUT' }),
    ]);
    const t = store.timeline({ since: T0, until: T0 + 3000 }, 1000);
    expect(t.bucketMs).toBe(1000);
    expect(t.buckets).toMatchObject([
      { start: T0, answers: 2, errors: 0, clientMs: { p50: 10, max: 30 }, workersRunning: 2, queued: 4 },
      { start: T0 + 2000, answers: 1, errors: 1, workersRunning: null, queued: null },
    ]);
  });

  it('never cuts a long window into more than 720 buckets', () => {
    open();
    expect(store.timeline({ since: T0, until: T0 + 86_400_000 }, 1000).bucketMs).toBe(120_000);
  });

  it('gives each stage its percentiles, in the order stages happen, leaving out stages never seen', () => {
    open();
    store.add([
      report({ at: T0, server: { validate: 1, detect: 10, total: 30 } }),
      report({ at: T0 + 1, server: { validate: 3, detect: 20, total: 50 } }),
    ]);
    const { stages } = store.stages({ since: T0, until: T0 + 10 });
    expect(Object.keys(stages)).toEqual(['validate', 'detect', 'total']);
    expect(stages['detect']).toEqual({ count: 2, p50: 10, p90: 20, p99: 20, max: 20 });
  });

  it('groups by worker in natural order, and errors by status and code', () => {
    open();
    store.add([
      report({ at: T0, state: { worker: 'local-worker-10' }, server: { total: 9 } }),
      report({ at: T0, state: { worker: 'local-worker-2' }, server: { total: 5 } }),
      report({ at: T0, state: { worker: 'local-worker-2' }, status: 422, code: 'NO_FACE', server: { total: 7 } }),
      report({ at: T0, status: 422, code: 'NO_FACE' }),
      report({ at: T0, status: 415, code: 'NOT_AN_IMAGE' }),
    ]);
    const w = store.workers({ since: T0, until: T0 + 1 }).workers;
    expect(w.map((x) => [x.worker, x.answers, x.errors, x.serverMs.p50])).toEqual([
      ['local-worker-2', 2, 1, 5],
      ['local-worker-10', 1, 0, 9],
    ]);
    expect(store.errors({ since: T0, until: T0 + 1 }).errors).toEqual([
      { status: 422, code: 'NO_FACE', count: 2 },
      { status: 415, code: 'NOT_AN_IMAGE', count: 1 },
    ]);
  });

  it('groups by the web process that took each request', () => {
    open();
    store.add([
      report({ at: T0, state: { web: 'w2-bbbbbbbb', worker: 'local-worker-1' }, server: { total: 8 } }),
      report({ at: T0, state: { web: 'w1-aaaaaaaa', worker: 'local-worker-1' }, server: { total: 4 } }),
      report({ at: T0, state: { web: 'w1-aaaaaaaa' }, status: 503, code: 'SHUTTING_DOWN' }),
      // An answer from a web tier older than the web id: counted nowhere here.
      report({ at: T0, state: { worker: 'local-worker-1' } }),
    ]);
    const web = store.webProcesses({ since: T0, until: T0 + 1 }).web;
    expect(web.map((x) => [x.web, x.answers, x.errors, x.serverMs.p50])).toEqual([
      ['w1-aaaaaaaa', 2, 1, 4],
      ['w2-bbbbbbbb', 1, 0, 8],
    ]);
  });

  it('deletes what is past its age and the oldest beyond the cap', () => {
    open({ maxReports: 3, retentionMs: 60_000 });
    store.add([report({ at: T0 }), report({ at: T0 + 1 })]);
    now = T0 + 61_000;
    store.add([report({ at: now }), report({ at: now + 1 }), report({ at: now + 2 }), report({ at: now + 3 })]);
    expect(store.prune()).toBe(3);
    expect(store.size).toBe(3);
    expect(store.overview({ since: now, until: now + 10 }).answers).toBe(3);
  });

  it('stores a batch whole or not at all', () => {
    open();
    const bad = report({ at: T0 }) as unknown as Record<string, unknown>;
    bad['status'] = { not: 'a number' };
    expect(() => store.add([report({ at: T0 }), bad as unknown as Report])).toThrow();
    expect(store.size).toBe(0);
  });
});

describe('what a batch of reports may hold', () => {
  const ok = { at: T0, source: 'console', status: 200, clientMs: 12.5, server: { total: 10 }, state: { worker: 'w' } };
  it.each([
    ['a good report', { reports: [ok] }, true],
    ['no report', { reports: [] }, false],
    ['501 reports', { reports: Array.from({ length: 501 }, () => ok) }, false],
    ['an unknown field', { reports: [{ ...ok, extra: 1 }] }, false],
    ['an unknown stage', { reports: [{ ...ok, server: { lunch: 5 } }] }, false],
    ['a negative duration', { reports: [{ ...ok, clientMs: -1 }] }, false],
    ['a duration of more than an hour', { reports: [{ ...ok, clientMs: 3_600_001 }] }, false],
    ['a source with markup', { reports: [{ ...ok, source: '<script>' }] }, false],
    ['a code in lower case', { reports: [{ ...ok, code: 'no_face' }] }, false],
    ['a time before 2020', { reports: [{ ...ok, at: 0 }] }, false],
    ['a worker id of 65 characters', { reports: [{ ...ok, state: { worker: 'w'.repeat(65) } }] }, false],
    ['a status above 599', { reports: [{ ...ok, status: 600 }] }, false],
  ])('%s: accepted %s', (_what, batch, accepted) => {
    expect(reportBatchSchema.safeParse(batch).success).toBe(accepted);
  });
});
