/**
 * A worker's Prometheus metrics (GET /metrics on its health port): messages by outcome, each stage's time
 * by task, what it holds now, whether it is ready, and the default collection it matches against, and
 * the collections it holds in memory; process metrics too.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { WORKER_STAGES } from '../shared/wire/answer-metrics.js';
import { LATENCY_BUCKETS_SECONDS, processRegistry } from '../shared/metrics.js';
import { MESSAGE_OUTCOMES, type MessageOutcome } from './queue-consumer.js';

export interface WorkerMetricsSources {
  /** Messages received and not yet finished with. */
  readonly holding: () => number;
  readonly ready: () => boolean;
  readonly gallery: () => { version: number; size: number } | undefined;
  /** Every collection in memory, with its faces. */
  readonly collections: () => readonly { faces: number }[];
}

export class WorkerMetrics {
  readonly registry: Registry = processRegistry();
  private readonly messages: Counter<'outcome'>;
  private readonly extensions: Counter;
  private readonly stages: Histogram<'task' | 'stage'>;

  constructor(sources: WorkerMetricsSources) {
    const registers = [this.registry];
    this.messages = new Counter({
      name: 'facefleet_worker_messages_total',
      help: 'Request messages by outcome: answered, refused (a permanent error), given-up (last attempt failed), retried, malformed.',
      labelNames: ['outcome'],
      registers,
    });
    this.extensions = new Counter({
      name: 'facefleet_worker_visibility_extensions_total',
      help: 'Held messages whose visibility the heartbeat extended (a batch that ran longer than HEARTBEAT_SECONDS).',
      registers,
    });
    this.stages = new Histogram({
      name: 'facefleet_worker_stage_duration_seconds',
      help: `Time in each of the worker's stages (${WORKER_STAGES.join(', ')}), by task.`,
      labelNames: ['task', 'stage'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    new Gauge({
      name: 'facefleet_worker_messages_held',
      help: 'Messages this worker has received and not yet finished with (0: idle).',
      registers,
      collect() {
        this.set(sources.holding());
      },
    });
    new Gauge({
      name: 'facefleet_worker_ready',
      help: '1 once the models are warm and the gallery read (the worker takes messages), else 0.',
      registers,
      collect() {
        this.set(sources.ready() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'facefleet_worker_gallery_version',
      help: 'The version of the gallery this worker matches against (absent before the first read).',
      registers,
      collect() {
        const gallery = sources.gallery();
        if (gallery) this.set(gallery.version);
      },
    });
    new Gauge({
      name: 'facefleet_worker_gallery_faces',
      help: 'Faces in the gallery this worker matches against.',
      registers,
      collect() {
        const gallery = sources.gallery();
        if (gallery) this.set(gallery.size);
      },
    });
    new Gauge({
      name: 'facefleet_worker_collections_loaded',
      help: 'Collections this worker holds in memory (each loaded at its first request).',
      registers,
      collect() {
        this.set(sources.collections().length);
      },
    });
    new Gauge({
      name: 'facefleet_worker_faces_in_memory',
      help: 'Faces over every collection in memory; GALLERY_MAX_FACES_IN_MEMORY caps it.',
      registers,
      collect() {
        this.set(sources.collections().reduce((n, c) => n + c.faces, 0));
      },
    });
    // Every outcome is present from the start, so that rate() sees its first increase.
    for (const outcome of MESSAGE_OUTCOMES) this.messages.inc({ outcome }, 0);
  }

  extended(messages: number): void {
    this.extensions.inc(messages);
  }

  outcome(outcome: MessageOutcome): void {
    this.messages.inc({ outcome });
  }

  /** The stage timings of one handled message (`<stage>Ms`, milliseconds). */
  handled(task: string, timings: Readonly<Record<string, number>>): void {
    for (const stage of WORKER_STAGES) {
      const ms = timings[`${stage}Ms`];
      if (ms !== undefined) this.stages.observe({ task, stage }, ms / 1000);
    }
  }
}
