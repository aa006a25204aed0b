/** Reads the Prometheus text format with a parser of its own (not prom-client, which wrote it). */
// @ts-expect-error: the parser ships no types; its output is described below.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample {
  readonly labels?: Record<string, string>;
  readonly value?: string;
  /** Histograms: cumulative counts by upper bound, and the sum and count. */
  readonly buckets?: Record<string, string>;
  readonly count?: string;
  readonly sum?: string;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  readonly metrics: readonly Sample[];
}

/**
 * The families of a /metrics body, by name; throws on text that is not the Prometheus format.
 *
 * The parser merges the buckets of a histogram's label sets into one sample (its `flattenMetrics`), so each
 * histogram is also read as its untyped series: `<name>_bucket`, `<name>_sum` and `<name>_count`, each sample
 * with its own labels.
 */
export function parseMetrics(text: string): Map<string, MetricFamily> {
  const parse = parsePrometheusTextFormat as (t: string) => MetricFamily[];
  const families = parse(text);
  const histograms = families.filter((f) => f.type === 'HISTOGRAM').map((f) => f.name);
  const series = parse(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'));
  const byName = new Map(families.map((f) => [f.name, f]));
  // Untyped, a histogram's series interleave (bucket, sum, count per label set): each run is a family.
  for (const f of series) {
    if (!histograms.some((h) => f.name.startsWith(`${h}_`))) continue;
    const seen = byName.get(f.name);
    byName.set(f.name, seen ? { ...seen, metrics: [...seen.metrics, ...f.metrics] } : f);
  }
  return byName;
}

/** The sum of a counter's or gauge's samples whose labels include `labels`. */
export function total(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  if (!family) throw new Error(`no metric ${name}`);
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((sum, m) => sum + Number(m.value ?? m.count ?? 0), 0);
}

export async function scrape(url: string): Promise<Map<string, MetricFamily>> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain; version=0.0.4'))
    throw new Error(`${url} is not the Prometheus text format: ${res.headers.get('content-type')}`);
  return parseMetrics(await res.text());
}
