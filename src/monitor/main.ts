/**
 * Entry point of the monitoring server: `npm run monitor` on its own, or a child process of `npm start`. It
 * keeps what clients report in SQLite (MONITOR_DB) and serves the monitoring page's queries.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createLogger } from '../shared/logger.js';
import { PollLoop } from '../shared/poll-loop.js';
import { runMain, type MonitorReadyMessage } from '../shared/process.js';
import { buildMonitorApp } from './app.js';
import { MonitorStore } from './store.js';

/** Reports past their age are deleted this often, besides after every thousand stored. */
const PRUNE_INTERVAL_MS = 60_000;

await runMain('monitor', async (config) => {
  const logger = createLogger(config, { tier: 'monitor' });
  const m = config.monitor;
  mkdirSync(dirname(m.dbPath), { recursive: true });
  const store = new MonitorStore({ path: m.dbPath, retentionMs: m.retentionMs, maxReports: m.maxReports });
  const pruning = new PollLoop({
    round: async () => {
      const deleted = store.prune();
      if (deleted > 0) logger.info({ deleted }, 'old reports deleted');
    },
    intervalMs: PRUNE_INTERVAL_MS,
    backoffMs: () => PRUNE_INTERVAL_MS,
    onError: (err) => logger.error({ err }, 'pruning the reports failed'),
    abortRoundOnStop: false,
  });
  pruning.start();
  const app = buildMonitorApp({
    store,
    logger,
    maxBatchesPerMinute: m.maxBatchesPerMinute,
    maxReportsPerMinute: m.maxReportsPerMinute,
    forwardToken: m.forwardToken,
  });
  const server = createServer(app);
  server.listen(m.port, m.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
  const { port } = server.address() as AddressInfo;
  const url = `http://${m.host === '0.0.0.0' ? '127.0.0.1' : m.host}:${port}`;
  logger.info({ url, db: m.dbPath, reports: store.size }, 'monitoring server listening');
  const ready: MonitorReadyMessage = { type: 'facefleet:monitor-ready', url };
  process.send?.(ready);
  return {
    logger,
    async stop() {
      await pruning.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      store.close();
      logger.info('monitoring server stopped');
    },
  };
});
