/**
 * How a collection's face vectors are stored: int8 with one float32 scale per face. A unit-length 512-d
 * embedding has components of about ±0.05 (at most about ±0.25); scaling each vector by its largest component
 * before rounding keeps some 7 bits for every component, and cosine similarity ignores the scale. 516 bytes a
 * face instead of 2,048 as float32: a million faces are 492 MiB on S3 and in a worker's index. The similarity
 * it changes is measured by `npm run bench:gallery` (`quantizationMaxError`): well under 0.001, a thousandth of
 * the match threshold's scale. Pure: no I/O here.
 */
import { EMBEDDING_DIMENSIONS } from './names-and-faces.js';

const MAGIC = 0x31564646; // "FFV1", little-endian
const HEADER_BYTES = 12;

/** Faces' vectors, quantized: row `i` is `codes[i*dims .. (i+1)*dims)`, worth `codes * scales[i]`. */
export interface QuantizedVectors {
  readonly count: number;
  readonly dimensions: number;
  readonly scales: Float32Array;
  readonly codes: Int8Array;
}

/** Quantizes `count` float32 rows (one after another in `rows`). */
export function quantize(rows: Float32Array, dimensions = EMBEDDING_DIMENSIONS): QuantizedVectors {
  const count = rows.length / dimensions;
  if (!Number.isInteger(count)) throw new RangeError(`${rows.length} values are not rows of ${dimensions}`);
  const scales = new Float32Array(count);
  const codes = new Int8Array(rows.length);
  for (let r = 0; r < count; r++) {
    const base = r * dimensions;
    let max = 0;
    for (let i = 0; i < dimensions; i++) max = Math.max(max, Math.abs(rows[base + i]!));
    const scale = max === 0 ? 1 : max / 127;
    scales[r] = scale;
    for (let i = 0; i < dimensions; i++) codes[base + i] = Math.round(rows[base + i]! / scale);
  }
  return { count, dimensions, scales, codes };
}

/** Row `row` back as unit-length float32 (the quantized vector renormalised). */
export function dequantizeRow(v: QuantizedVectors, row: number, out = new Float32Array(v.dimensions)): Float32Array {
  const base = row * v.dimensions;
  let norm = 0;
  for (let i = 0; i < v.dimensions; i++) norm += v.codes[base + i]! * v.codes[base + i]!;
  const k = norm === 0 ? 0 : 1 / Math.sqrt(norm);
  for (let i = 0; i < v.dimensions; i++) out[i] = v.codes[base + i]! * k;
  return out;
}

/** The stored form: a 12-byte header ("FFV1", count, dimensions), the scales, then the codes. */
export function encodeVectors(v: QuantizedVectors): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + v.count * 4 + v.codes.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, v.count, true);
  view.setUint32(8, v.dimensions, true);
  bytes.set(new Uint8Array(v.scales.buffer, v.scales.byteOffset, v.scales.byteLength), HEADER_BYTES);
  bytes.set(new Uint8Array(v.codes.buffer, v.codes.byteOffset, v.codes.byteLength), HEADER_BYTES + v.count * 4);
  return bytes;
}

/** Throws a RangeError when `bytes` are not vectors of this form and of `dimensions`. */
export function decodeVectors(bytes: Uint8Array, dimensions = EMBEDDING_DIMENSIONS): QuantizedVectors {
  if (bytes.length < HEADER_BYTES) throw new RangeError(`a vector segment of ${bytes.length} bytes has no header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(4, true);
  if (view.getUint32(0, true) !== MAGIC) throw new RangeError('not a vector segment (no FFV1 header)');
  if (view.getUint32(8, true) !== dimensions) {
    throw new RangeError(`vectors of ${view.getUint32(8, true)} dimensions, expected ${dimensions}`);
  }
  const expected = HEADER_BYTES + count * 4 + count * dimensions;
  if (bytes.length !== expected)
    throw new RangeError(`a vector segment of ${bytes.length} bytes, expected ${expected}`);
  // Copies: the scales must be 4-byte aligned, and the segment's buffer may be pooled.
  const scales = new Float32Array(count);
  new Uint8Array(scales.buffer).set(bytes.subarray(HEADER_BYTES, HEADER_BYTES + count * 4));
  const codes = new Int8Array(count * dimensions);
  new Uint8Array(codes.buffer).set(bytes.subarray(HEADER_BYTES + count * 4));
  return { count, dimensions, scales, codes };
}

/** Rows `from` of several quantized sets, one after another. */
export function concatVectors(parts: readonly QuantizedVectors[], dimensions = EMBEDDING_DIMENSIONS): QuantizedVectors {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const scales = new Float32Array(count);
  const codes = new Int8Array(count * dimensions);
  let row = 0;
  for (const p of parts) {
    scales.set(p.scales, row);
    codes.set(p.codes, row * dimensions);
    row += p.count;
  }
  return { count, dimensions, scales, codes };
}

/** The rows of `v` whose index `keep` returns true for, in order. */
export function selectRows(v: QuantizedVectors, keep: (row: number) => boolean): QuantizedVectors {
  const rows = [...Array(v.count).keys()].filter(keep);
  const scales = new Float32Array(rows.length);
  const codes = new Int8Array(rows.length * v.dimensions);
  rows.forEach((r, i) => {
    scales[i] = v.scales[r]!;
    codes.set(v.codes.subarray(r * v.dimensions, (r + 1) * v.dimensions), i * v.dimensions);
  });
  return { count: rows.length, dimensions: v.dimensions, scales, codes };
}
