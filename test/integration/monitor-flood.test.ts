/**
 * A flood cannot swamp the monitoring server: one client (as the web tier vouches for it) stores at most its
 * reports per minute, a source it makes up is counted as `other` (no new Prometheus series), a client that
 * writes its own forwarding headers is counted against the address it connected from, and another client's
 * reports still reach the overview. The real monitor app on a real port, with its SQLite store in memory.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMonitorApp } from '../../src/monitor/app.js';
import { MonitorStore } from '../../src/monitor/store.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { FORWARD_TOKEN_HEADER, FORWARDED_CLIENT_HEADER } from '../../src/shared/wire/monitor-reports.js';

const TOKEN = 'forward-token-0123456789abcdef';
const PER_MINUTE = 2000;
const BATCH = 500;

describe('a flood of reports', () => {
  let server: Server;
  let base: string;
  const store = new MonitorStore({ path: ':memory:', retentionMs: 3_600_000, maxReports: 1_000_000 });

  beforeAll(async () => {
    const app = buildMonitorApp({
      store,
      logger: createLogger(loadConfig({ LOG_LEVEL: 'silent' }), { tier: 'test' }),
      maxBatchesPerMinute: 1000,
      maxReportsPerMinute: PER_MINUTE,
      forwardToken: TOKEN,
    });
    server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });

  const batch = (n: number, source: (i: number) => string) =>
    JSON.stringify({
      reports: Array.from({ length: n }, (_, i) => ({ at: Date.now(), source: source(i), status: 200, clientMs: 5 })),
    });
  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${base}/reports`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const vouched = (client: string) => ({ [FORWARD_TOKEN_HEADER]: TOKEN, [FORWARDED_CLIENT_HEADER]: client });

  it('stores a client’s reports up to its quota, counts made-up sources as "other", and keeps others’ answers', async () => {
    const statuses: number[] = [];
    for (let b = 0; b < 20; b++) {
      const res = await post(
        batch(BATCH, (i) => `x${b}-${i}`),
        vouched('203.0.113.5'),
      );
      statuses.push(res.status);
      if (res.status === 429) expect(await res.text()).toMatch(/stored 2000 reports in the last minute/);
      else await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(PER_MINUTE / BATCH);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - PER_MINUTE / BATCH);
    expect(store.size).toBe(PER_MINUTE);

    // 10,000 made-up sources arrived; the counter has a series for ours and one for the rest.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const series = metrics.split('\n').filter((l) => l.startsWith('facefleet_monitor_reports_received_total{'));
    expect(series).toEqual([`facefleet_monitor_reports_received_total{source="other"} ${PER_MINUTE}`]);
    expect(metrics.length).toBeLessThan(20_000);

    // Another client, as the web tier vouches for it, still stores its answers, and the overview counts them.
    const real = await post(
      batch(10, () => 'workload'),
      vouched('198.51.100.7'),
    );
    expect(real.status).toBe(202);
    const overview = (await (await fetch(`${base}/api/overview?minutes=5`)).json()) as { answers: number };
    expect(overview.answers).toBe(PER_MINUTE + 10);
  });

  it('believes a forwarded address only with the web tier’s token', async () => {
    // Without the token, every batch counts against the address that connected (127.0.0.1), whatever it
    // claims: X-Forwarded-For and a made-up client header change nothing.
    const statuses: number[] = [];
    for (let b = 0; b < 6; b++) {
      const res = await post(
        batch(BATCH, () => 'workload'),
        {
          'x-forwarded-for': `192.0.2.${b}`,
          [FORWARD_TOKEN_HEADER]: 'not-the-token-0123456789',
          [FORWARDED_CLIENT_HEADER]: `192.0.2.${b}`,
        },
      );
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(PER_MINUTE / BATCH);
    expect(statuses.at(-1)).toBe(429);
  });
});
