import { describe, expect, it } from 'vitest';
import {
  decodeDetections,
  DEFAULT_DETECTOR_OPTIONS,
  iou,
  letterbox,
  nonMaxSuppression,
} from '../../src/app-tier/recognition/detector.js';
import { rankByProminence } from '../../src/app-tier/recognition/engine.js';

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

describe('iou', () => {
  it.each([
    [box(0, 0, 10, 10), box(0, 0, 10, 10), 1],
    [box(0, 0, 10, 10), box(10, 10, 20, 20), 0],
    [box(0, 0, 10, 10), box(5, 0, 15, 10), 50 / 150],
  ])('%o vs %o', (a, b, expected) => expect(iou(a, b)).toBeCloseTo(expected, 9));
});

describe('nonMaxSuppression', () => {
  it('keeps the best of overlapping boxes and every separate face', () => {
    const kept = nonMaxSuppression(
      [
        { box: box(0, 0, 10, 10), score: 0.8 },
        { box: box(1, 1, 11, 11), score: 0.95 },
        { box: box(50, 50, 60, 60), score: 0.75 },
      ],
      0.3,
    );
    expect(kept.map((d) => d.score)).toEqual([0.95, 0.75]);
  });
});

describe('letterbox', () => {
  it('pads a 64x64 course image and centres it without distortion', () => {
    const lb = letterbox(64, 64, 0.25);
    expect(lb.width).toBe(lb.height);
    expect(lb.height).toBeLessThan(240);
    expect(lb.offsetX).toBe(Math.floor((320 - lb.width) / 2));
  });
});

describe('decodeDetections', () => {
  it('maps a box from the detector input back to image pixels and drops low scores', () => {
    const lb = letterbox(100, 100, 0);
    // Anchor 0: a face covering the letterboxed image exactly; anchor 1: below the threshold.
    const x1 = lb.offsetX / 320;
    const x2 = (lb.offsetX + lb.width) / 320;
    const y1 = lb.offsetY / 240;
    const y2 = (lb.offsetY + lb.height) / 240;
    const scores = new Float32Array([0.01, 0.99, 0.9, 0.1]);
    const boxes = new Float32Array([x1, y1, x2, y2, 0, 0, 1, 1]);
    const [d, ...rest] = decodeDetections(scores, boxes, lb, { width: 100, height: 100 }, DEFAULT_DETECTOR_OPTIONS);
    expect(rest).toEqual([]);
    expect(d!.box.x1).toBeCloseTo(0, 0);
    expect(d!.box.x2).toBeCloseTo(100, 0);
    expect(d!.score).toBeCloseTo(0.99, 6);
  });
});

describe('rankByProminence', () => {
  it('puts a central face before a slightly larger one at the edge', () => {
    const image = { width: 250, height: 250 };
    const centre = { box: box(90, 90, 160, 160), score: 0.9 };
    const edge = { box: box(0, 0, 75, 75), score: 0.99 };
    expect(rankByProminence([edge, centre], image)[0]).toBe(centre);
  });
});
