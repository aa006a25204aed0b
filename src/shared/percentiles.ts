/** Nearest-rank percentiles of samples (the definition the workload generator and the monitor share). */

/** The p-th percentile (0 < p ≤ 100) of values sorted ascending; undefined for none. */
export function nearestRank(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** Count, p50, p90, p99 and max of unsorted samples, rounded to 0.1; null where there are none. */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => {
    const v = nearestRank(sorted, p);
    return v === undefined ? null : Math.round(v * 10) / 10;
  };
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}
