/**
 * The MobileFaceNet embedder: an aligned 112x112 RGB face, normalised to (x − 127) / 128, to a 512-d vector,
 * which we L2-normalise so that a dot product is the cosine similarity.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { ALIGNED_FACE_SIZE, type RawImage } from './alignment.js';

export { EMBEDDING_DIMENSIONS } from '../../shared/gallery.js';

export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  const out = new Float32Array(v.length);
  if (norm === 0) return out;
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm;
  return out;
}

/** One inference at a time per instance (the engine serialises them): the input buffer is reused. */
export class Embedder {
  private readonly chw = new Float32Array(3 * ALIGNED_FACE_SIZE * ALIGNED_FACE_SIZE);

  constructor(private readonly session: InferenceSession) {}

  async embed(face: RawImage): Promise<Float32Array> {
    if (face.width !== ALIGNED_FACE_SIZE || face.height !== ALIGNED_FACE_SIZE || face.channels !== 3) {
      throw new RangeError(`embedder needs a ${ALIGNED_FACE_SIZE}x${ALIGNED_FACE_SIZE} RGB face`);
    }
    const plane = ALIGNED_FACE_SIZE * ALIGNED_FACE_SIZE;
    const chw = this.chw;
    for (let p = 0; p < plane; p++) {
      chw[p] = (face.data[p * 3]! - 127) / 128;
      chw[plane + p] = (face.data[p * 3 + 1]! - 127) / 128;
      chw[2 * plane + p] = (face.data[p * 3 + 2]! - 127) / 128;
    }
    const out = await this.session.run({
      input: new Tensor('float32', chw, [1, 3, ALIGNED_FACE_SIZE, ALIGNED_FACE_SIZE]),
    });
    return l2Normalize(out['output']!.data as Float32Array);
  }
}
