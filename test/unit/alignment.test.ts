import { describe, expect, it } from 'vitest';
import {
  applyAffine,
  ARCFACE_TEMPLATE,
  estimateSimilarity,
  invertAffine,
  warpAffineToPlanes,
  type Affine,
  type Point,
} from '../../src/app-tier/recognition/alignment.js';

/** A similarity transform from its parameters: rotate by `angle`, scale by `scale`, then shift. */
function similarity(angle: number, scale: number, tx: number, ty: number): Affine {
  const a = scale * Math.cos(angle);
  const b = scale * Math.sin(angle);
  return [a, -b, tx, b, a, ty];
}

describe('estimateSimilarity', () => {
  it.each([
    ['identity', 0, 1, 0, 0],
    ['a shift', 0, 1, 12.5, -7],
    ['a rotation of 30 degrees', Math.PI / 6, 1, 0, 0],
    ['a face twice the size, tilted and moved', -0.4, 2.2, 130, 80],
    ['a small face (the course images)', 0.1, 0.3, 20, 15],
  ])('recovers the template from faces under %s', (_name, angle, scale, tx, ty) => {
    const forward = similarity(angle, scale, tx, ty);
    const face = ARCFACE_TEMPLATE.map((p) => applyAffine(forward, p));
    const m = estimateSimilarity(face, ARCFACE_TEMPLATE);
    face.forEach((p, i) => {
      const [x, y] = applyAffine(m, p);
      expect(x).toBeCloseTo(ARCFACE_TEMPLATE[i]![0], 6);
      expect(y).toBeCloseTo(ARCFACE_TEMPLATE[i]![1], 6);
    });
  });

  it('finds the least-squares fit when the points are noisy', () => {
    const noise: Point[] = [
      [0.5, -0.3],
      [-0.4, 0.2],
      [0.1, 0.4],
      [-0.3, -0.2],
      [0.1, -0.1],
    ];
    const face = ARCFACE_TEMPLATE.map((p, i) => [p[0] + noise[i]![0], p[1] + noise[i]![1]] as const);
    const m = estimateSimilarity(face, ARCFACE_TEMPLATE);
    const error = face.reduce((sum, p, i) => {
      const [x, y] = applyAffine(m, p);
      return sum + Math.hypot(x - ARCFACE_TEMPLATE[i]![0], y - ARCFACE_TEMPLATE[i]![1]);
    }, 0);
    expect(error / face.length).toBeLessThan(0.6);
  });

  it('refuses degenerate input', () => {
    expect(() => estimateSimilarity([[1, 1]], [[2, 2]])).toThrow(RangeError);
    expect(() =>
      estimateSimilarity(
        [
          [1, 1],
          [1, 1],
        ],
        ARCFACE_TEMPLATE.slice(0, 2),
      ),
    ).toThrow(/identical/);
  });
});

describe('invertAffine and warpAffine', () => {
  it('inverts a transform', () => {
    const m = similarity(0.7, 1.8, 5, -3);
    const p: Point = [17, 42];
    const [x, y] = applyAffine(invertAffine(m), applyAffine(m, p));
    expect(x).toBeCloseTo(17, 9);
    expect(y).toBeCloseTo(42, 9);
  });

  it('copies pixels under the identity into planes, normalised, and fills outside the source with black', () => {
    const data = new Uint8Array(4 * 4 * 3).map((_, i) => i);
    const out = new Float32Array(3 * 6 * 6);
    warpAffineToPlanes({ data, width: 4, height: 4, channels: 3 }, [1, 0, 0, 0, 1, 0], 6, out, 127, 1 / 128);
    const plane = 36;
    // Pixel (x=1, y=0) holds 3, 4, 5 in the source; each channel lands in its own plane.
    expect([out[1], out[plane + 1], out[2 * plane + 1]]).toEqual([3, 4, 5].map((v) => (v - 127) / 128));
    // (x=5, y=5) lies outside the 4x4 source: black, i.e. (0 − 127) / 128.
    expect([out[35], out[plane + 35], out[2 * plane + 35]]).toEqual([-127 / 128, -127 / 128, -127 / 128]);
  });

  it('moves a bright pixel where the transform sends it, and interpolates between pixels', () => {
    const data = new Uint8Array(10 * 10 * 3);
    data.fill(255, (3 * 10 + 2) * 3, (3 * 10 + 3) * 3); // (x=2, y=3) white
    const out = new Float32Array(3 * 10 * 10);
    warpAffineToPlanes({ data, width: 10, height: 10, channels: 3 }, [1, 0, 4, 0, 1, 1], 10, out, 0, 1);
    expect(out[4 * 10 + 6]).toBe(255); // (x=6, y=4)
    // Half a pixel to the right: half of the white pixel and half of its black neighbour.
    warpAffineToPlanes({ data, width: 10, height: 10, channels: 3 }, [1, 0, -0.5, 0, 1, 0], 10, out, 0, 1);
    expect(out[3 * 10 + 2]).toBeCloseTo(127.5, 9);
    expect(out[3 * 10 + 1]).toBeCloseTo(127.5, 9);
  });

  it('refuses a tensor too small for the crop', () => {
    const image = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 };
    expect(() => warpAffineToPlanes(image, [1, 0, 0, 0, 1, 0], 4, new Float32Array(10), 0, 1)).toThrow(/fewer/);
  });
});
