/**
 * Resampling a rectangle of an RGB image straight into a model's input tensor, in JavaScript.
 *
 * Why not sharp: every libvips pipeline has a fixed cost. On the 64x64 course images a resize plus an extend
 * for the detector cost 3.7 ms, a crop-resize-greyscale for the landmarks 2.6 ms, against 0.4 and 0.2 ms for
 * these loops (measured on the project's 2-core AMD EPYC; `npm run bench` shows the engine against its bare
 * models). Large regions are the other way round: libvips' vectorised shrink took 5.8 ms to bring a 1600x1200
 * photo to the detector's size where these loops took 21 ms, and 3.6 ms against 7.5 for a 640x480 tile. So
 * regions of more than NATIVE_RESIZE_MIN_PIXELS are first resized by sharp, and the loops only normalise.
 *
 * The filter is a triangle (bilinear) whose support widens with the reduction, as Pillow's and libvips'
 * reducing filters do: enlarging is plain bilinear interpolation with pixel centres at half-integers (OpenCV's
 * INTER_LINEAR, which the models' reference code used), reducing averages every source pixel a destination
 * pixel covers instead of skipping most of them (no aliasing when a 1600 px photo becomes 320 px).
 */
import sharp from 'sharp';
import type { RawImage } from './alignment.js';
import type { Region } from './detector.js';

/** Source regions larger than this (about 500x500) are resized by sharp first; see above. */
export const NATIVE_RESIZE_MIN_PIXELS = 250_000;

/** For one axis: which source pixels each destination pixel reads, and with what weights. */
export interface Taps {
  /** First source index read by destination pixel i. */
  readonly first: Int32Array;
  /** Number of source pixels destination pixel i reads. */
  readonly count: Int32Array;
  /** `stride` weights per destination pixel, summing to 1; the unused tail is 0. */
  readonly weights: Float32Array;
  readonly stride: number;
}

/**
 * The triangle filter's taps for mapping `srcLength` source pixels starting at `srcStart` onto `dstLength`
 * destination pixels. Taps never leave the source span: at its edges the weights are renormalised (the edge
 * pixel is not repeated), so a crop reads nothing outside itself.
 */
export function triangleTaps(srcStart: number, srcLength: number, dstLength: number): Taps {
  if (srcLength < 1 || dstLength < 1) throw new RangeError(`cannot resample ${srcLength} pixels to ${dstLength}`);
  const scale = srcLength / dstLength;
  const radius = Math.max(1, scale);
  const stride = Math.ceil(radius) * 2;
  const first = new Int32Array(dstLength);
  const count = new Int32Array(dstLength);
  const weights = new Float32Array(dstLength * stride);
  const end = srcStart + srcLength;
  for (let i = 0; i < dstLength; i++) {
    // Every source pixel strictly within the radius of this pixel's centre. A centre never lies more than
    // half a pixel outside the span, so with a radius of at least 1 the span always supplies one.
    const centre = srcStart + (i + 0.5) * scale - 0.5;
    const from = Math.max(srcStart, Math.floor(centre - radius) + 1);
    const to = Math.min(end - 1, Math.ceil(centre + radius) - 1);
    let sum = 0;
    for (let j = from; j <= to; j++) {
      const w = 1 - Math.abs(j - centre) / radius;
      weights[i * stride + j - from] = w;
      sum += w;
    }
    for (let j = from; j <= to; j++) weights[i * stride + j - from]! /= sum;
    first[i] = from;
    count[i] = to - from + 1;
  }
  return { first, count, weights, stride };
}

/** Where the resampled rectangle lands in the destination, and how its 8-bit values become tensor values. */
export interface PlanesTarget {
  /** Destination tensor, planar (CHW): `channels` planes of `width` x `height`. */
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
  /** The rectangle of the destination written; the rest is left as it is. */
  readonly rect: Region;
  /** Tensor value = (pixel − mean) × scale, e.g. mean 127 and scale 1/128 for the detector and embedder. */
  readonly mean: number;
  readonly scale: number;
  /** 3: RGB planes; 1: one grey plane, 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, OpenCV's RGB2GRAY). */
  readonly channels: 1 | 3;
}

/**
 * Scratch rows reused between calls: the horizontal pass writes one float row per source row, and a fresh
 * array per call would be garbage for every image. Each model owns one; models run one at a time.
 */
export class Resampler {
  private rows = new Float32Array(0);

  /**
   * Like `resample`, for a region of any size: one larger than NATIVE_RESIZE_MIN_PIXELS is brought to the
   * rectangle's size by sharp (its 'linear' kernel, also widened when reducing), then normalised into place.
   */
  async resampleRegion(image: RawImage, region: Region, target: PlanesTarget): Promise<void> {
    if (region.width * region.height <= NATIVE_RESIZE_MIN_PIXELS) {
      this.resample(image, region, target);
      return;
    }
    const { width, height } = target.rect;
    let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
    if (region.width !== image.width || region.height !== image.height) pipeline = pipeline.extract(region);
    const data = await pipeline.resize(width, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    this.resample({ data, width, height, channels: 3 }, { left: 0, top: 0, width, height }, target);
  }

  /** Resamples `region` of an interleaved RGB `image` into `target.rect` of the planar tensor `target.data`. */
  resample(image: RawImage, region: Region, target: PlanesTarget): void {
    if (image.channels !== 3) throw new RangeError(`expected an RGB image, got ${image.channels} channels`);
    const { rect } = target;
    const xTaps = triangleTaps(region.left, region.width, rect.width);
    const yTaps = triangleTaps(region.top, region.height, rect.height);
    const outW = rect.width;
    const needed = region.height * outW * 3;
    if (this.rows.length < needed) this.rows = new Float32Array(needed);
    const rows = this.rows;
    const src = image.data;
    const rowBytes = image.width * 3;
    // Locals, not property reads, in the loops: V8 keeps them in registers.
    const xFirst = xTaps.first;
    const xCount = xTaps.count;
    const xWeights = xTaps.weights;
    const xStride = xTaps.stride;

    // Horizontal pass: every source row of the region, resampled to the destination width (RGB floats).
    for (let y = 0; y < region.height; y++) {
      const srcRow = (region.top + y) * rowBytes;
      let o = y * outW * 3;
      for (let x = 0; x < outW; x++, o += 3) {
        const n = xCount[x]!;
        let w = x * xStride;
        let p = srcRow + xFirst[x]! * 3;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0; k < n; k++, p += 3, w++) {
          const weight = xWeights[w]!;
          r += src[p]! * weight;
          g += src[p + 1]! * weight;
          b += src[p + 2]! * weight;
        }
        rows[o] = r;
        rows[o + 1] = g;
        rows[o + 2] = b;
      }
    }

    // Vertical pass, straight into the destination planes with the model's normalisation.
    const { data, mean, scale } = target;
    const plane = target.width * target.height;
    const yFirst = yTaps.first;
    const yCount = yTaps.count;
    const yWeights = yTaps.weights;
    const yStride = yTaps.stride;
    const rowFloats = outW * 3;
    const grey = target.channels === 1;
    for (let y = 0; y < rect.height; y++) {
      const n = yCount[y]!;
      const w0 = y * yStride;
      const firstRow = (yFirst[y]! - region.top) * rowFloats;
      let o = (rect.top + y) * target.width + rect.left;
      for (let x = 0; x < outW; x++, o++) {
        let r = 0;
        let g = 0;
        let b = 0;
        let p = firstRow + x * 3;
        for (let k = 0; k < n; k++, p += rowFloats) {
          const weight = yWeights[w0 + k]!;
          r += rows[p]! * weight;
          g += rows[p + 1]! * weight;
          b += rows[p + 2]! * weight;
        }
        if (grey) {
          data[o] = (0.299 * r + 0.587 * g + 0.114 * b - mean) * scale;
        } else {
          data[o] = (r - mean) * scale;
          data[plane + o] = (g - mean) * scale;
          data[2 * plane + o] = (b - mean) * scale;
        }
      }
    }
  }
}
