/** Milliseconds rounded to hundredths, for logs and response messages. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export function roundAllMs(timings: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).map(([stage, ms]) => [stage, roundMs(ms)]));
}
