/**
 * Face alignment: a least-squares similarity transform (rotation, uniform scale, translation) that maps the
 * five detected landmarks onto the ArcFace 112x112 template, and a bilinear warp that applies it.
 * Pure functions over plain arrays and RGB buffers, so they can be table-tested without models.
 */

export type Point = readonly [x: number, y: number];

/** Side of the aligned face crop the embedder expects, in pixels. */
export const ALIGNED_FACE_SIZE = 112;

/**
 * The five reference points (left eye, right eye, nose tip, left and right mouth corner) of the 112x112
 * crop used to train ArcFace/InsightFace embedders (Deng et al., "ArcFace", CVPR 2019; insightface
 * `face_align.py`). MobileFaceNet models from that family expect faces warped onto exactly these points.
 */
export const ARCFACE_TEMPLATE: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/**
 * A 2x3 affine matrix `[a, b, tx, c, d, ty]` mapping source (x, y) to destination
 * (a*x + b*y + tx, c*x + d*y + ty). For a similarity transform, c = -b and d = a.
 */
export type Affine = readonly [number, number, number, number, number, number];

/**
 * The similarity transform that best maps `src` onto `dst` in the least-squares sense (Umeyama, "Least-squares
 * estimation of transformation parameters between two point patterns", PAMI 1991), restricted to 2-D without
 * reflection. Closed form: with centred points, a = Σ(x·u + y·v)/Σ|p|², b = Σ(y·u − x·v)/Σ|p|².
 */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Affine {
  if (src.length !== dst.length || src.length < 2) {
    throw new RangeError(`need at least two matching point pairs, got ${src.length} and ${dst.length}`);
  }
  const n = src.length;
  const mean = (pts: readonly Point[]): Point => [
    pts.reduce((s, p) => s + p[0], 0) / n,
    pts.reduce((s, p) => s + p[1], 0) / n,
  ];
  const [sx, sy] = mean(src);
  const [dx, dy] = mean(dst);
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const x = src[i]![0] - sx;
    const y = src[i]![1] - sy;
    const u = dst[i]![0] - dx;
    const v = dst[i]![1] - dy;
    dot += x * u + y * v;
    cross += x * v - y * u;
    norm += x * x + y * y;
  }
  if (norm === 0) throw new RangeError('source points are all identical');
  const a = dot / norm;
  const b = -cross / norm;
  // (u, v) = [[a, b], [-b, a]] (x, y) + t
  return [a, b, dx - (a * sx + b * sy), -b, a, dy - (-b * sx + a * sy)];
}

/** Applies an affine matrix to one point. */
export function applyAffine(m: Affine, [x, y]: Point): Point {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

/** The inverse of an invertible affine matrix. */
export function invertAffine(m: Affine): Affine {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  if (Math.abs(det) < 1e-12) throw new RangeError('affine matrix is not invertible');
  const ia = d / det;
  const ib = -b / det;
  const ic = -c / det;
  const id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

/** An interleaved 8-bit image: `data.length === width * height * channels`. */
export interface RawImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/**
 * Warps `image` with `m` (source → destination) into a `size`×`size` crop by inverse mapping with bilinear
 * interpolation; pixels that fall outside the source are black, as OpenCV's `warpAffine` does by default.
 */
export function warpAffine(image: RawImage, m: Affine, size: number): RawImage {
  const { data, width, height, channels } = image;
  const inv = invertAffine(m);
  const out = new Uint8Array(size * size * channels);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const x = inv[0] * u + inv[1] * v + inv[2];
      const y = inv[3] * u + inv[4] * v + inv[5];
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      const o = (v * size + u) * channels;
      for (let c = 0; c < channels; c++) {
        const p00 = sample(data, width, height, channels, x0, y0, c);
        const p10 = sample(data, width, height, channels, x0 + 1, y0, c);
        const p01 = sample(data, width, height, channels, x0, y0 + 1, c);
        const p11 = sample(data, width, height, channels, x0 + 1, y0 + 1, c);
        const top = p00 + (p10 - p00) * fx;
        const bottom = p01 + (p11 - p01) * fx;
        out[o + c] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return { data: out, width: size, height: size, channels };
}

function sample(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  x: number,
  y: number,
  c: number,
): number {
  if (x < 0 || y < 0 || x >= width || y >= height) return 0;
  return data[(y * width + x) * channels + c]!;
}
