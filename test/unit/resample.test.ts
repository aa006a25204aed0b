import { describe, expect, it } from 'vitest';
import {
  NATIVE_RESIZE_MIN_PIXELS,
  Resampler,
  triangleTaps,
  type PlanesTarget,
} from '../../src/app-tier/recognition/resample.js';

function tapsOf(srcStart: number, srcLength: number, dstLength: number) {
  const t = triangleTaps(srcStart, srcLength, dstLength);
  return Array.from({ length: dstLength }, (_, i) =>
    Array.from({ length: t.count[i]! }, (_, k) => [t.first[i]! + k, t.weights[i * t.stride + k]!] as const),
  );
}

describe('triangleTaps', () => {
  it('copies each pixel when the size is unchanged', () => {
    expect(tapsOf(5, 4, 4)).toEqual([[[5, 1]], [[6, 1]], [[7, 1]], [[8, 1]]]);
  });

  it('enlarges as bilinear interpolation with half-pixel centres, repeating the edge (OpenCV INTER_LINEAR)', () => {
    const taps = tapsOf(0, 2, 4);
    expect(taps[0]).toEqual([[0, 1]]); // centre −0.25: only the edge pixel
    expect(taps[1]!.map(([j]) => j)).toEqual([0, 1]);
    expect(taps[1]![0]![1]).toBeCloseTo(0.75, 6);
    expect(taps[1]![1]![1]).toBeCloseTo(0.25, 6);
    expect(taps[3]).toEqual([[1, 1]]);
  });

  it('reduces by averaging every source pixel under a widened triangle', () => {
    const taps = tapsOf(0, 8, 4);
    // Destination pixel 1 is centred on 2.5 and reads 1..4 with weights 1:3:3:1.
    expect(taps[1]!.map(([j]) => j)).toEqual([1, 2, 3, 4]);
    expect(taps[1]!.map(([, w]) => w)).toEqual([0.125, 0.375, 0.375, 0.125]);
  });

  it.each([
    [0, 64, 160],
    [0, 250, 160],
    [37, 640, 320],
    [0, 1600, 213],
    [3, 7, 64],
    [0, 1, 5],
  ])('from %i + %i pixels to %i: weights sum to 1 and never leave the span', (start, length, dst) => {
    for (const pixel of tapsOf(start, length, dst)) {
      expect(pixel.reduce((s, [, w]) => s + w, 0)).toBeCloseTo(1, 5);
      for (const [j] of pixel) {
        expect(j).toBeGreaterThanOrEqual(start);
        expect(j).toBeLessThan(start + length);
      }
    }
  });

  it('refuses empty spans', () => {
    expect(() => triangleTaps(0, 0, 4)).toThrow(RangeError);
    expect(() => triangleTaps(0, 4, 0)).toThrow(RangeError);
  });
});

describe('Resampler', () => {
  /** An RGB image whose pixel (x, y) is (x, y, x + y) scaled by `k`. */
  function ramp(width: number, height: number, k = 1) {
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) data.set([x * k, y * k, (x + y) * k], (y * width + x) * 3);
    return { data, width, height, channels: 3 };
  }

  function target(width: number, height: number, rect: PlanesTarget['rect'], channels: 1 | 3 = 3): PlanesTarget {
    return {
      data: new Float32Array(channels * width * height).fill(-9),
      width,
      height,
      rect,
      mean: 0,
      scale: 1,
      channels,
    };
  }

  it('copies a region into planes unchanged at the same size', () => {
    const image = ramp(10, 8);
    const t = target(4, 3, { left: 0, top: 0, width: 4, height: 3 });
    new Resampler().resample(image, { left: 2, top: 5, width: 4, height: 3 }, t);
    // Destination (1, 2) is source (3, 7): R = 3, G = 7, B = 10.
    expect([t.data[2 * 4 + 1], t.data[12 + 2 * 4 + 1], t.data[24 + 2 * 4 + 1]]).toEqual([3, 7, 10]);
  });

  it('writes only inside its rectangle, normalised as asked (the detector letterbox)', () => {
    const image = { data: new Uint8Array(6 * 6 * 3).fill(255), width: 6, height: 6, channels: 3 };
    const t: PlanesTarget = { ...target(10, 8, { left: 2, top: 1, width: 3, height: 3 }), mean: 127, scale: 1 / 128 };
    new Resampler().resample(image, { left: 0, top: 0, width: 6, height: 6 }, t);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 10; x++) {
          const inside = x >= 2 && x < 5 && y >= 1 && y < 4;
          expect(t.data[c * 80 + y * 10 + x]).toBeCloseTo(inside ? 1 : -9, 6);
        }
  });

  it('keeps a linear ramp linear when reducing and when enlarging', () => {
    const image = ramp(64, 64, 2);
    const down = target(16, 16, { left: 0, top: 0, width: 16, height: 16 });
    const resampler = new Resampler();
    resampler.resample(image, { left: 0, top: 0, width: 64, height: 64 }, down);
    // Destination pixel 5 (away from the edges) covers source 20..23, centred on 21.5: R = 2 × 21.5.
    expect(down.data[3 * 16 + 5]).toBeCloseTo(43, 4);
    const up = target(128, 128, { left: 0, top: 0, width: 128, height: 128 });
    resampler.resample(image, { left: 0, top: 0, width: 64, height: 64 }, up);
    // Destination pixel 41 is centred on source 20.25: R = 2 × 20.25.
    expect(up.data[7 * 128 + 41]).toBeCloseTo(40.5, 4);
  });

  it('makes one BT.601 grey plane', () => {
    const image = { data: new Uint8Array([200, 100, 50, 200, 100, 50]), width: 2, height: 1, channels: 3 };
    const t = target(2, 1, { left: 0, top: 0, width: 2, height: 1 }, 1);
    new Resampler().resample(image, { left: 0, top: 0, width: 2, height: 1 }, t);
    expect(t.data[0]).toBeCloseTo(0.299 * 200 + 0.587 * 100 + 0.114 * 50, 4);
  });

  it('hands large regions to sharp first, with the same result as the loops to within a grey level', async () => {
    // A smooth picture of 800x600 (more than NATIVE_RESIZE_MIN_PIXELS), reduced to a 200x150 letterbox.
    const width = 800;
    const height = 600;
    expect(width * height).toBeGreaterThan(NATIVE_RESIZE_MIN_PIXELS);
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        data.set(
          [128 + 100 * Math.sin(x / 40), 128 + 100 * Math.cos(y / 30), (x + y) % 256 > 128 ? 200 : 60],
          (y * width + x) * 3,
        );
    const image = { data, width, height, channels: 3 };
    const whole = { left: 0, top: 0, width, height };
    const rect = { left: 10, top: 5, width: 200, height: 150 };
    const native = target(220, 160, rect);
    const loops = target(220, 160, rect);
    await new Resampler().resampleRegion(image, whole, native);
    new Resampler().resample(image, whole, loops);
    let sum = 0;
    for (let i = 0; i < native.data.length; i++) sum += Math.abs(native.data[i]! - loops.data[i]!);
    // Mostly smooth sines; the diagonal stripes' edges differ most between the two filters.
    expect(sum / (3 * 200 * 150)).toBeLessThan(1);
    // Outside the rectangle nothing was written.
    expect(native.data[0]).toBe(-9);
  });
});
