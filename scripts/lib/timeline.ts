/**
 * A record of a run over time: request-queue depth (visible and in flight), workers, and completed requests
 * per second, sampled at a fixed interval, saved as CSV and drawn as an SVG chart (Vega-Lite, rendered
 * headless) that a person can open in a browser.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface Observation {
  readonly visible: number;
  readonly inFlight: number;
  readonly workers: number;
}

export interface TimelineSample extends Observation {
  /** Seconds since the recording started. */
  readonly t: number;
  readonly completedPerSecond: number;
}

export class TimelineRecorder {
  private readonly samples: TimelineSample[] = [];
  private completed = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private lastAt = 0;
  private lastCompleted = 0;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly observe: () => Promise<Observation>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.startedAt = this.lastAt = performance.now();
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  /** Counts one finished request. */
  completedOne(): void {
    this.completed++;
  }

  async stop(): Promise<TimelineSample[]> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample();
    return this.samples;
  }

  private sample(): Promise<void> {
    // One observation at a time: a slow read is skipped over rather than piled up.
    this.sampling = this.sampling.then(async () => {
      try {
        const observed = await this.observe();
        const now = performance.now();
        const seconds = (now - this.lastAt) / 1000;
        this.samples.push({
          t: Math.round((now - this.startedAt) / 100) / 10,
          ...observed,
          completedPerSecond: seconds > 0 ? Math.round(((this.completed - this.lastCompleted) / seconds) * 10) / 10 : 0,
        });
        this.lastAt = now;
        this.lastCompleted = this.completed;
      } catch {
        // A missed sample leaves a gap in the chart; it must not end the benchmark.
      }
    });
    return this.sampling;
  }
}

export function timelineCsv(samples: readonly TimelineSample[]): string {
  const rows = samples.map((s) => [s.t, s.visible, s.inFlight, s.workers, s.completedPerSecond].join(','));
  return ['seconds,visible,in_flight,workers,completed_per_second', ...rows].join('\n') + '\n';
}

export async function timelineSvg(samples: readonly TimelineSample[], title: string): Promise<string> {
  const series = {
    visible: 'queue: visible',
    inFlight: 'queue: in flight',
    workers: 'workers',
    completedPerSecond: 'completed requests/s',
  } as const;
  const values = samples.flatMap((s) =>
    (Object.keys(series) as (keyof typeof series)[]).map((k) => ({ seconds: s.t, series: series[k], value: s[k] })),
  );
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 720,
    height: 320,
    background: 'white',
    config: { legend: { labelLimit: 0 } },
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'seconds', type: 'quantitative', title: 'seconds since the workload started' },
      y: { field: 'value', type: 'quantitative', title: null },
      color: { field: 'series', type: 'nominal', title: null, sort: Object.values(series) },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
