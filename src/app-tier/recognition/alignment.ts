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
 * Warps the RGB `image` with `m` (source → destination) into a `size`×`size` crop by inverse mapping with
 * bilinear interpolation, written straight into the planar (CHW) tensor `out` as (pixel − mean) × scale.
 * Pixels that fall outside the source are black, as OpenCV's `warpAffine` does by default (the models'
 * reference code aligned with it).
 */
export function warpAffineToPlanes(
  image: RawImage,
  m: Affine,
  size: number,
  out: Float32Array,
  mean: number,
  scale: number,
): void {
  const { data, width, height } = image;
  if (image.channels !== 3) throw new RangeError(`expected an RGB image, got ${image.channels} channels`);
  if (out.length < 3 * size * size) throw new RangeError(`the tensor holds fewer than 3 x ${size} x ${size} values`);
  const inv = invertAffine(m);
  const plane = size * size;
  const black = -mean * scale;
  // One channel of a pixel, black outside the image; only for the few pixels at the image's edge.
  const at = (x: number, y: number, c: number) =>
    x < 0 || y < 0 || x >= width || y >= height ? 0 : data[(y * width + x) * 3 + c]!;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const x = inv[0] * u + inv[1] * v + inv[2];
      const y = inv[3] * u + inv[4] * v + inv[5];
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const o = v * size + u;
      if (x0 < -1 || y0 < -1 || x0 >= width || y0 >= height) {
        out[o] = black;
        out[plane + o] = black;
        out[2 * plane + o] = black;
        continue;
      }
      const fx = x - x0;
      const fy = y - y0;
      const w00 = (1 - fx) * (1 - fy);
      const w10 = fx * (1 - fy);
      const w01 = (1 - fx) * fy;
      const w11 = fx * fy;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
        // All four neighbours inside: read them directly (nearly every pixel of a face crop).
        const p00 = (y0 * width + x0) * 3;
        const p01 = p00 + width * 3;
        for (let c = 0; c < 3; c++) {
          const value =
            data[p00 + c]! * w00 + data[p00 + 3 + c]! * w10 + data[p01 + c]! * w01 + data[p01 + 3 + c]! * w11;
          out[c * plane + o] = (value - mean) * scale;
        }
      } else {
        for (let c = 0; c < 3; c++) {
          const value =
            at(x0, y0, c) * w00 + at(x0 + 1, y0, c) * w10 + at(x0, y0 + 1, c) * w01 + at(x0 + 1, y0 + 1, c) * w11;
          out[c * plane + o] = (value - mean) * scale;
        }
      }
    }
  }
}
