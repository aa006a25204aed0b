/**
 * The web tier's Prometheus metrics (GET /metrics): answers by route, status and error code, their latency,
 * each stage's latency (the web tier's and the workers', as they came back on the answers), requests waiting
 * for a worker, and the fleet as the autoscaler last saw it.
 */
import type { Response } from 'express';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { STAGES } from '../../shared/wire/answer-metrics.js';
import { fleetGauges, LATENCY_BUCKETS_SECONDS, processRegistry } from '../../shared/metrics.js';
import type { AnswerTimer } from '../requests/answer-timer.js';
import type { FleetSnapshot } from './fleet-state.js';

export interface WebMetricsSources {
  /** Requests waiting for their worker's answer now. */
  readonly waiting: () => number;
  readonly fleet: () => FleetSnapshot | undefined;
}

/** The `code` label of an answer that is not an error. */
export const OK_CODE = 'OK';

export class WebMetrics {
  readonly registry: Registry = processRegistry();
  private readonly requests: Counter<'method' | 'route' | 'status' | 'code'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  private readonly stages: Histogram<'stage'>;
  private newestGallery: number | undefined;

  constructor(sources: WebMetricsSources) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'facefleet_http_requests_total',
      help: 'HTTP answers of the web tier, by method, route pattern, status and error code (OK when none).',
      labelNames: ['method', 'route', 'status', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'facefleet_http_request_duration_seconds',
      help: 'Time from a request arriving to its answer going out, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.stages = new Histogram({
      name: 'facefleet_stage_duration_seconds',
      help: `Time in each stage of an answer, the web tier's and the worker's (${STAGES.join(', ')}).`,
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    new Gauge({
      name: 'facefleet_requests_waiting',
      help: 'Requests queued by this web tier and waiting for a worker to answer.',
      registers,
      collect() {
        this.set(sources.waiting());
      },
    });
    fleetGauges(
      this.registry,
      { queue: 'facefleet_request_queue_messages', workers: 'facefleet_workers' },
      {
        queue:
          'Request-queue messages by state (visible: waiting; in_flight: taken by a worker), as the autoscaler last read them.',
        workers: 'App-tier workers by state, as the autoscaler last listed them.',
      },
      () => sources.fleet()?.status,
    );
    const newestGallery = () => this.newestGallery;
    new Gauge({
      name: 'facefleet_gallery_version',
      help: 'The newest gallery version a worker matched against, as its answers said (absent before the first).',
      registers,
      collect() {
        const version = newestGallery();
        if (version !== undefined) this.set(version);
      },
    });
  }

  answered(res: Response, timer: AnswerTimer): void {
    const req = res.req;
    const route = (res.locals['route'] as string | undefined) ?? (req.route as { path?: string } | undefined)?.path;
    const labels = { method: req.method, route: route ?? 'unmatched', status: String(res.statusCode) };
    const code = (res.locals['errorCode'] as string | undefined) ?? OK_CODE;
    this.requests.inc({ ...labels, code });
    const durations = timer.durations();
    this.duration.observe(labels, durations.total! / 1000);
    for (const stage of STAGES) {
      const ms = durations[stage];
      if (ms !== undefined && (stage !== 'total' || timer.worker !== undefined))
        this.stages.observe({ stage }, ms / 1000);
    }
    if (timer.gallery !== undefined) this.newestGallery = Math.max(this.newestGallery ?? 0, timer.gallery);
  }
}
