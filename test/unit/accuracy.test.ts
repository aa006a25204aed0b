import { describe, expect, it } from 'vitest';
import {
  accuracyAt,
  bestThreshold,
  crossValidatedAccuracy,
  falseAcceptRate,
  openSetRates,
  rankOneRate,
  rocAuc,
  tarAtFar,
  thresholdAtFar,
} from '../../scripts/lib/accuracy.js';

const pair = (similarity: number, same: boolean) => ({ similarity, same });

describe('verification metrics', () => {
  const pairs = [
    pair(0.9, true),
    pair(0.7, true),
    pair(0.4, true),
    pair(0.5, false),
    pair(0.1, false),
    pair(-0.2, false),
  ];

  it('finds the threshold with the best accuracy, between two scores', () => {
    const { threshold, accuracy } = bestThreshold(pairs);
    expect(accuracy).toBeCloseTo(5 / 6, 9);
    expect(accuracyAt(pairs, threshold)).toBeCloseTo(5 / 6, 9);
    expect(pairs.some((p) => p.similarity === threshold)).toBe(false);
    expect(bestThreshold([pair(0.8, true), pair(0.2, false)]).accuracy).toBe(1);
  });

  it('cross-validates on folds it did not choose the threshold on', () => {
    const separable = Array.from({ length: 40 }, (_, i) => pair(i % 2 ? 0.8 + i / 1000 : 0.1 - i / 1000, i % 2 === 1));
    expect(crossValidatedAccuracy(separable).mean).toBe(1);
    // A fold whose only pair contradicts the rest is measured wrong: the threshold came from the others.
    const odd = [...separable.slice(0, 9), pair(0.05, true)];
    expect(crossValidatedAccuracy(odd, 10).mean).toBeCloseTo(0.9, 9);
  });

  it.each([
    [[0.9, 0.8], [0.1, 0.2], 1],
    [[0.1, 0.2], [0.9, 0.8], 0],
    [[0.5], [0.5], 0.5],
    [[0.9, 0.3], [0.5, 0.1], 0.75],
  ])('ROC AUC of genuine %j against impostor %j is %f', (genuine, impostor, auc) =>
    expect(rocAuc(genuine, impostor)).toBeCloseTo(auc, 9),
  );

  it('sets the threshold so at most the given share of impostors pass', () => {
    const impostor = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const { threshold, far } = thresholdAtFar(impostor, 0.001);
    expect(far).toBe(0.001);
    expect(falseAcceptRate(impostor, threshold)).toBe(0.001);
    expect(threshold).toBeGreaterThan(0.998);
    expect(tarAtFar([0.9995, 0.5], impostor, 0.001).tar).toBe(0.5);
  });
});

describe('identification metrics', () => {
  const v = (...xs: number[]) => Float32Array.from(xs);
  const gallery = [
    { identity: 'A', embedding: v(1, 0) },
    { identity: 'B', embedding: v(0, 1) },
  ];
  const probes = [
    { identity: 'A', embedding: v(0.9, 0.1) },
    { identity: 'B', embedding: v(0.6, 0.4) },
  ];

  it('counts a probe as rank-1 when its nearest entry is its own identity', () => {
    expect(rankOneRate(gallery, probes)).toBe(0.5);
  });

  it('counts open-set hits only above the threshold, and strangers above it as false accepts', () => {
    const strangers = [{ identity: 'C', embedding: v(0.7, 0.7) }];
    expect(openSetRates(gallery, probes, strangers, 0.8)).toEqual({ dir: 0.5, fpir: 0 });
    expect(openSetRates(gallery, probes, strangers, 0.5)).toEqual({ dir: 0.5, fpir: 1 });
    expect(openSetRates(gallery, probes, strangers, 0.95)).toEqual({ dir: 0, fpir: 0 });
  });
});
