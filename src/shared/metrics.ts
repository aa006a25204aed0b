/**
 * What every process's Prometheus endpoint shares: a registry of its own (never prom-client's global one, so
 * that tests running several tiers in one process keep them apart), the process and Node.js metrics, the
 * buckets of the latency histograms, and the answer to GET /metrics.
 *
 * Names follow Prometheus conventions: `facefleet_` prefix, the unit in the name (`_seconds`, `_total`),
 * labels of low cardinality (a stage, a status, an error code; never a file or a person's name).
 */
import type { ServerResponse } from 'node:http';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** Seconds: a warm recognition takes milliseconds, a cold fleet's first answer a minute on EC2. */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Answers GET /metrics on a plain node:http server (the autoscaler's, a worker's). */
export async function sendMetrics(registry: Registry, res: ServerResponse): Promise<void> {
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'Content-Type': registry.contentType }).end(body);
  } catch (err) {
    res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`The metrics could not be collected: ${String(err)}`);
  }
}

/** What the autoscaler saw at its last round: the request queue and the workers, by state. */
export interface FleetFigures {
  readonly queue: { readonly visible: number; readonly inFlight: number };
  readonly workers: Readonly<Record<string, number>>;
}

/**
 * The two gauges of the fleet as the autoscaler last saw it, `<queue>{state="visible"|"in_flight"}` and
 * `<workers>{state}`: the autoscaler serves its own, the web tier the copy it reads once a second. Absent while
 * the figures are unknown.
 */
export function fleetGauges(
  registry: Registry,
  names: { readonly queue: string; readonly workers: string },
  help: { readonly queue: string; readonly workers: string },
  figures: () => FleetFigures | undefined,
): void {
  const byState = (name: string, helpText: string, values: () => Readonly<Record<string, number>> | undefined) =>
    new Gauge({
      name,
      help: helpText,
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [state, count] of Object.entries(values() ?? {})) this.set({ state }, count);
      },
    });
  byState(names.queue, help.queue, () => {
    const f = figures();
    return f && { visible: f.queue.visible, in_flight: f.queue.inFlight };
  });
  byState(names.workers, help.workers, () => figures()?.workers);
}
