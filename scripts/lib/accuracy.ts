/**
 * The face-recognition metrics of `npm run bench:accuracy`, as pure functions over similarity scores:
 * verification accuracy with a cross-validated threshold, ROC AUC, the true-accept rate at a false-accept
 * rate, the threshold that gives a false-accept rate, and rank-1 identification.
 */

export interface ScoredPair {
  /** Cosine similarity of the two faces; −Infinity when either image has no face. */
  readonly similarity: number;
  readonly same: boolean;
}

/** The share of pairs a threshold classifies right (same person when similarity ≥ threshold). */
export function accuracyAt(pairs: readonly ScoredPair[], threshold: number): number {
  if (pairs.length === 0) return 0;
  return pairs.filter((p) => p.similarity >= threshold === p.same).length / pairs.length;
}

/**
 * The threshold with the best accuracy on `pairs`: candidates are the midpoints between consecutive distinct
 * similarities (and one below all, one above all), so it never sits exactly on a pair's score.
 */
export function bestThreshold(pairs: readonly ScoredPair[]): { threshold: number; accuracy: number } {
  const values = [...new Set(pairs.map((p) => p.similarity).filter(Number.isFinite))].sort((a, b) => a - b);
  const candidates = [
    (values[0] ?? 0) - 1e-6,
    ...values.slice(1).map((v, i) => (v + values[i]!) / 2),
    (values.at(-1) ?? 0) + 1e-6,
  ];
  // One sweep: sorted ascending, accepting everything at or above each candidate.
  const sorted = [...pairs].sort((a, b) => a.similarity - b.similarity);
  let correct = sorted.filter((p) => p.same).length; // threshold below all: every pair accepted
  let best = { threshold: candidates[0]!, accuracy: correct / pairs.length };
  let i = 0;
  for (const threshold of candidates.slice(1)) {
    while (i < sorted.length && sorted[i]!.similarity < threshold) {
      correct += sorted[i]!.same ? -1 : 1;
      i++;
    }
    if (correct / pairs.length > best.accuracy) best = { threshold, accuracy: correct / pairs.length };
  }
  return best;
}

/**
 * Verification accuracy as LFW reports it: split the pairs into `folds` folds, choose the threshold on the
 * others, measure on each fold. Pairs are dealt round-robin, so each fold keeps the same/different balance.
 */
export function crossValidatedAccuracy(
  pairs: readonly ScoredPair[],
  folds = 10,
): { mean: number; std: number; thresholds: number[] } {
  const accuracies: number[] = [];
  const thresholds: number[] = [];
  for (let k = 0; k < folds; k++) {
    const train = pairs.filter((_, i) => i % folds !== k);
    const test = pairs.filter((_, i) => i % folds === k);
    const { threshold } = bestThreshold(train);
    thresholds.push(threshold);
    accuracies.push(accuracyAt(test, threshold));
  }
  const mean = accuracies.reduce((s, a) => s + a, 0) / folds;
  const std = Math.sqrt(accuracies.reduce((s, a) => s + (a - mean) ** 2, 0) / folds);
  return { mean, std, thresholds };
}

/** Area under the ROC curve: the chance that a random same-person pair scores above a random different one. */
export function rocAuc(genuine: readonly number[], impostor: readonly number[]): number {
  if (genuine.length === 0 || impostor.length === 0) return Number.NaN;
  // Mann–Whitney U with ties counted half, via one sort of both lists.
  const all = [...genuine.map((s) => ({ s, genuine: true })), ...impostor.map((s) => ({ s, genuine: false }))].sort(
    (a, b) => a.s - b.s,
  );
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k]!.genuine) rankSum += averageRank;
    i = j;
  }
  const u = rankSum - (genuine.length * (genuine.length + 1)) / 2;
  return u / (genuine.length * impostor.length);
}

/**
 * The lowest threshold at which at most `far` of the impostor scores are accepted (similarity ≥ threshold),
 * and the false-accept rate it actually gives. With n impostors, at most ⌊far·n⌋ of them are accepted.
 */
export function thresholdAtFar(impostor: ArrayLike<number>, far: number): { threshold: number; far: number } {
  const sorted = Float64Array.from(impostor).sort();
  const n = sorted.length;
  const allowed = Math.floor(far * n);
  // Accept the top `allowed` scores: the threshold sits just above the next one down.
  const below = sorted[n - allowed - 1];
  if (below === undefined) return { threshold: -Infinity, far: 1 };
  const threshold = nextUp(below);
  return { threshold, far: falseAcceptRate(sorted, threshold) };
}

/** The share of scores at or above the threshold. */
export function falseAcceptRate(impostor: ArrayLike<number>, threshold: number): number {
  let accepted = 0;
  for (let i = 0; i < impostor.length; i++) if (impostor[i]! >= threshold) accepted++;
  return impostor.length === 0 ? 0 : accepted / impostor.length;
}

/** The true-accept rate (genuine pairs at or above the threshold) at the threshold that gives `far`. */
export function tarAtFar(genuine: readonly number[], impostor: ArrayLike<number>, far: number) {
  const { threshold, far: actualFar } = thresholdAtFar(impostor, far);
  return { tar: falseAcceptRate(genuine, threshold), threshold, far: actualFar };
}

export interface Probe {
  readonly identity: string;
  readonly embedding: Float32Array;
}

/** The share of probes whose most similar gallery entry is their own identity (closed-set rank-1). */
export function rankOneRate(gallery: readonly Probe[], probes: readonly Probe[]): number {
  if (probes.length === 0) return Number.NaN;
  return probes.filter((p) => nearest(gallery, p).identity === p.identity).length / probes.length;
}

/** Each probe's nearest gallery entry: its identity and similarity. */
export function nearest(gallery: readonly Probe[], probe: Probe): { identity: string; similarity: number } {
  let best = { identity: '', similarity: -Infinity };
  for (const entry of gallery) {
    const similarity = cosine(entry.embedding, probe.embedding);
    if (similarity > best.similarity) best = { identity: entry.identity, similarity };
  }
  return best;
}

/**
 * Open-set identification at a threshold, as the service answers: a known probe counts as identified when its
 * nearest entry is its own identity and at least `threshold` similar (detection and identification rate,
 * DIR); a stranger (nobody in the gallery) is falsely accepted when its nearest entry is that similar (false
 * positive identification rate, FPIR).
 */
export function openSetRates(
  gallery: readonly Probe[],
  known: readonly Probe[],
  strangers: readonly Probe[],
  threshold: number,
): { dir: number; fpir: number } {
  const knownHits = known.filter((p) => {
    const n = nearest(gallery, p);
    return n.identity === p.identity && n.similarity >= threshold;
  }).length;
  const falseAccepts = strangers.filter((p) => nearest(gallery, p).similarity >= threshold).length;
  return {
    dir: known.length ? knownHits / known.length : Number.NaN,
    fpir: strangers.length ? falseAccepts / strangers.length : Number.NaN,
  };
}

/** Dot product, which is the cosine similarity of the embedder's unit vectors. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

/** The smallest double above `x`, so that a threshold just above a score rejects that score. */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  return x + Math.abs(x) * Number.EPSILON;
}
