/**
 * The autoscaler's own small HTTP endpoint, bound to the loopback interface by default: GET /status returns
 * the last decision as JSON (the web tier serves it again at its own GET /status), GET /healthz says it lives,
 * GET /metrics has its Prometheus metrics, and GET /targets lists the workers' metrics endpoints in
 * Prometheus's HTTP service-discovery format (the local fleet's workers listen on ports picked at start).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { sendMetrics } from '../shared/metrics.js';
import type { AutoscalerStatus } from './controller.js';

export interface StatusServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startStatusServer(
  status: () => AutoscalerStatus | undefined,
  metrics: Registry,
  host: string,
  port: number,
): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end(`${req.method} is not allowed; use GET.`);
    } else if (path === '/status') {
      const current = status();
      if (current) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(current));
      else res.writeHead(503, { 'content-type': 'text/plain' }).end('The autoscaler has not decided anything yet.');
    } else if (path === '/metrics') {
      void sendMetrics(metrics, res);
    } else if (path === '/targets') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(scrapeTargets(status())));
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(`There is no ${path} here; try GET /status, /metrics or /targets.`);
    }
  });
  server.listen(port, host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}/status`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One group of Prometheus HTTP service discovery: `[{ targets: ["host:port"], labels: {…} }]`. */
export interface ScrapeTargetGroup {
  readonly targets: string[];
  readonly labels: Record<string, string>;
}

/** The workers whose metrics endpoint is known, one group each so that each carries its worker id. */
export function scrapeTargets(status: AutoscalerStatus | undefined): ScrapeTargetGroup[] {
  return (status?.fleet ?? []).flatMap((w) => {
    if (!w.metricsUrl) return [];
    const url = new URL(w.metricsUrl);
    return [{ targets: [url.host], labels: { __metrics_path__: url.pathname, worker: w.id } }];
  });
}
