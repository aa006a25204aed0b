/** Seeded numbers for the benchmarks' synthetic faces: the same seed gives the same faces on every run. */

/** Uniform numbers in (0, 1) from a 32-bit xorshift generator seeded with `seed`. */
export function seededUniform(seed: number): () => number {
  let state = (seed * 2654435761) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 2 ** 32;
  };
}

/** Fills `out` with standard normal numbers (Box–Muller) drawn from `seed`. */
export function seededGaussian(seed: number, out: Float32Array | Float64Array): typeof out {
  const next = seededUniform(seed);
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()));
    const t = 2 * Math.PI * next();
    out[i] = r * Math.cos(t);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(t);
  }
  return out;
}
