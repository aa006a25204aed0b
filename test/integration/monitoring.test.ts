/**
 * Clients forward what they saw, the monitor keeps it: the real workload generator reports every answer
 * (its latency and the server's metrics) through the web tier to `npm start`'s monitoring server, which stores
 * them in SQLite and answers the monitoring page's queries. Garbage is refused and never stored, a flood is
 * cut off, and a monitor that is down costs the requests nothing.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../src/local/stack.js';
import {} from '../helpers/fixtures.js';
import { runScript } from '../helpers/scripts.js';
import { enrollCourseSubset, startTestStack } from '../helpers/stack.js';

const ENROLLED = 20;
const MAX_BATCHES_PER_MINUTE = 12;

describe('monitoring', () => {
  let stack: LocalStack;
  let base: string;
  let images: string;
  const storedRows = () => {
    const db = new DatabaseSync(stack.config.monitor.dbPath, { readOnly: true });
    try {
      return Number((db.prepare('SELECT count(*) AS n FROM reports').get() as { n: number }).n);
    } finally {
      db.close();
    }
  };
  const postReports = (body: string, contentType = 'application/json') =>
    fetch(`${base}/monitoring/reports`, { method: 'POST', body, headers: { 'content-type': contentType } });
  const api = async (query: string) => {
    const res = await fetch(`${base}/monitoring/api/${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json() as Promise<Record<string, unknown>>;
  };

  beforeAll(async () => {
    stack = await startTestStack({ MONITOR_MAX_BATCHES_PER_MINUTE: String(MAX_BATCHES_PER_MINUTE) });
    base = stack.web.url;
    images = await enrollCourseSubset(stack, ENROLLED);
    await stack.fleet.whenRunning(2);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('the workload generator reports every answer, and the reports land in SQLite', async () => {
    const r = await runScript('scripts/workload.ts', [
      '--url',
      `${base}/`,
      '--images',
      images,
      '--labels',
      `${images}/labels.csv`,
      '-c',
      '5',
      '--no-progress',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`Total number of correct predictions : ${ENROLLED}\n`);
    expect(r.stdout).toContain(`Monitoring: ${ENROLLED} answers reported to ${base}/monitoring/reports\n`);
    expect(storedRows()).toBe(ENROLLED);
  });

  it('says what it is at its own root, not the web tier’s advice', async () => {
    const res = await fetch(`${stack.monitor.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^facefleet monitoring server: clients POST \/reports/);
  });

  it('serves latency over time, per stage, per worker, network time and errors', async () => {
    const overview = await api('overview?minutes=5');
    expect(overview).toMatchObject({ answers: ENROLLED, errors: 0, truncated: false });
    const client = overview['clientMs'] as { p50: number; p99: number };
    const server = overview['serverMs'] as { p50: number; count: number };
    expect(server.count).toBe(ENROLLED);
    // The client waits at least as long as the server works.
    expect(client.p50).toBeGreaterThanOrEqual(server.p50);
    expect((overview['networkMs'] as { count: number }).count).toBe(ENROLLED);

    const { stages } = (await api('stages?minutes=5')) as { stages: Record<string, { count: number }> };
    for (const stage of ['validate', 'upload', 'queue', 'detect', 'embed', 'match', 'total'])
      expect(stages[stage]?.count, stage).toBe(ENROLLED);

    const { workers } = (await api('workers?minutes=5')) as { workers: { worker: string; answers: number }[] };
    expect(workers.map((w) => w.worker).every((id) => /^local-worker-[12]$/.test(id))).toBe(true);
    expect(workers.reduce((n, w) => n + w.answers, 0)).toBe(ENROLLED);

    const timeline = (await api('timeline?minutes=5&bucketSeconds=1')) as {
      buckets: { answers: number; workersRunning: number | null }[];
    };
    expect(timeline.buckets.reduce((n, b) => n + b.answers, 0)).toBe(ENROLLED);
    expect(timeline.buckets.some((b) => b.workersRunning === 2)).toBe(true);
  });

  it('refuses garbage with 400 and a sentence, and stores none of it', async () => {
    const before = storedRows();
    const cases: [string, string, RegExp][] = [
      ['not JSON', '{"reports": [', /not JSON/],
      ['an empty batch', '{"reports": []}', /reports: .*no report/],
      ['a wrong type', JSON.stringify({ reports: [{ at: 'yesterday' }] }), /reports\.0\.at/],
      [
        'a good report beside a bad one',
        JSON.stringify({
          reports: [
            { at: Date.now(), source: 'test', status: 200, clientMs: 5 },
            { at: Date.now(), source: 'test', status: 200, clientMs: -5 },
          ],
        }),
        /reports\.1\.clientMs/,
      ],
    ];
    for (const [what, body, message] of cases) {
      const res = await postReports(body);
      expect(res.status, what).toBe(400);
      expect(res.headers.get('facefleet-error-code'), what).toBe('REPORTS_INVALID');
      expect(await res.text(), what).toMatch(message);
    }
    const huge = await postReports(JSON.stringify({ reports: [{ pad: 'x'.repeat(600 * 1024) }] }));
    expect(huge.status).toBe(413);
    expect(await huge.text()).toMatch(/larger than 512 KiB/);
    expect(storedRows()).toBe(before);
    const { errors } = (await api('errors?minutes=5')) as { errors: unknown[] };
    expect(errors).toEqual([]);
  });

  it('answers a batch that declares a gigabyte 413 at once, without waiting for its body', async () => {
    const socket = connect(stack.web.port, '127.0.0.1');
    await once(socket, 'connect');
    const started = Date.now();
    socket.write(
      'POST /monitoring/reports HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${2 ** 30}\r\n\r\n{"reports":[`,
    );
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    socket.destroy();
    expect(chunk.toString()).toMatch(/^HTTP\/1\.1 413 /);
    expect(chunk.toString()).toMatch(/larger than 512 KiB/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('bounds a flood: past its batches per minute a client is refused with 429', async () => {
    const one = JSON.stringify({ reports: [{ at: Date.now(), source: 'flood', status: 200, clientMs: 1 }] });
    const statuses: number[] = [];
    for (let i = 0; i < MAX_BATCHES_PER_MINUTE + 3; i++) statuses.push((await postReports(one)).status);
    expect(statuses).toContain(429);
    // Every batch this client sent this minute counts, the refused ones above included.
    expect(statuses.filter((s) => s === 202).length).toBeLessThanOrEqual(MAX_BATCHES_PER_MINUTE);
    const refused = await postReports(one);
    expect(refused.status).toBe(429);
    expect(await refused.text()).toMatch(/more than 12 batches of reports in the last minute/);
  });

  it('a monitor that does not answer costs the requests nothing: reports are dropped and counted', async () => {
    const r = await runScript('scripts/workload.ts', [
      '--url',
      `${base}/`,
      '--images',
      images,
      '-n',
      '6',
      '--no-progress',
      '--monitor',
      'http://127.0.0.1:9/reports',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Total number of requests completed successfully: 6\n');
    expect(r.stdout).toMatch(
      /Monitoring: 0 answers reported to http:\/\/127\.0\.0\.1:9\/reports, 6 dropped \(the monitor did not answer/,
    );
  });
});
