/**
 * The autoscaler's Prometheus metrics (GET /metrics on its status port): what it last saw (queue depth,
 * workers by state), what it wants (desired workers, the cap), and what it did (decisions by action, workers
 * launched and stopped, failed rounds); process metrics too.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { fleetGauges, processRegistry } from '../shared/metrics.js';
import type { AutoscalerStatus, ControllerObserver } from './controller.js';
import type { Decision } from './policy.js';

export class AutoscalerMetrics implements ControllerObserver {
  readonly registry: Registry = processRegistry();
  private readonly decisions: Counter<'action'>;
  private readonly launched: Counter;
  private readonly stopped: Counter;
  private readonly failures: Counter;

  constructor(status: () => AutoscalerStatus | undefined) {
    const registers = [this.registry];
    this.decisions = new Counter({
      name: 'facefleet_autoscaler_decisions_total',
      help: 'Scaling decisions by action (launch, stop, none); one per round.',
      labelNames: ['action'],
      registers,
    });
    for (const action of ['launch', 'stop', 'none']) this.decisions.inc({ action }, 0);
    this.launched = new Counter({
      name: 'facefleet_autoscaler_workers_launched_total',
      help: 'Workers the autoscaler asked the fleet to launch.',
      registers,
    });
    this.stopped = new Counter({
      name: 'facefleet_autoscaler_workers_stopped_total',
      help: 'Workers the autoscaler asked to finish what they hold and stop.',
      registers,
    });
    this.failures = new Counter({
      name: 'facefleet_autoscaler_round_failures_total',
      help: 'Rounds that failed (the queue or the fleet could not be read, or an action failed) and were retried.',
      registers,
    });
    fleetGauges(
      this.registry,
      { queue: 'facefleet_autoscaler_queue_messages', workers: 'facefleet_autoscaler_workers' },
      {
        queue: 'Request-queue messages by state at the last round (visible: waiting; in_flight: taken by a worker).',
        workers: 'Workers by state (starting, running, stopping, warm) at the last round.',
      },
      status,
    );
    new Gauge({
      name: 'facefleet_autoscaler_desired_workers',
      help: 'How many workers the policy wanted at the last round.',
      registers,
      collect() {
        const s = status();
        if (s) this.set(s.desired);
      },
    });
    new Gauge({
      name: 'facefleet_autoscaler_max_workers',
      help: 'The cap on workers (MAX_WORKERS).',
      registers,
      collect() {
        const s = status();
        if (s) this.set(s.maxWorkers);
      },
    });
  }

  decided(decision: Decision): void {
    this.decisions.inc({ action: decision.action.kind });
    if (decision.action.kind === 'launch') this.launched.inc(decision.action.count);
    if (decision.action.kind === 'stop') this.stopped.inc(decision.action.ids.length);
  }

  failed(): void {
    this.failures.inc();
  }
}
