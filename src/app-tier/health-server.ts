/**
 * A worker's own probes, for EC2 or load-balancer health checks: GET /healthz (the process answers) and
 * GET /readyz (200 once the models are warm and the gallery has been read, 503 saying what it waits for).
 * A worker takes no message before it is ready, so "ready" also means "taking work". GET /metrics: its
 * Prometheus metrics (worker-metrics.ts).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { sendMetrics } from '../shared/metrics.js';

export interface Readiness {
  /** Undefined when ready; otherwise what the worker still waits for, as a sentence. */
  readonly waitingFor: () => string | undefined;
  /** Details reported once ready (gallery version, warm-up time). */
  readonly details: () => Record<string, unknown>;
}

export async function startHealthServer(
  port: number,
  host: string | undefined,
  readiness: Readiness,
  metrics: Registry,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET', 'Content-Type': 'text/plain' }).end(`${req.method} is not allowed; use GET.`);
    } else if (path === '/metrics') {
      void sendMetrics(metrics, res);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    } else if (path === '/readyz') {
      const waiting = readiness.waitingFor();
      if (waiting) res.writeHead(503, { 'Content-Type': 'text/plain' }).end(`Not ready: ${waiting}`);
      else {
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ ready: true, ...readiness.details() }));
      }
    } else {
      res
        .writeHead(404, { 'Content-Type': 'text/plain' })
        .end(`There is no ${path} here; try /healthz, /readyz or /metrics.`);
    }
  });
  server.listen(port, host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
