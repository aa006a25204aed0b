/**
 * The MobileFaceNet embedder: an aligned 112x112 RGB face, normalised to (x − 127) / 128, to a 512-d vector,
 * which we L2-normalise so that a dot product is the cosine similarity.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { ALIGNED_FACE_SIZE, warpAffineToPlanes, type Affine, type RawImage } from './alignment.js';
import { laplacianVariance } from './sharpness.js';

export { EMBEDDING_DIMENSIONS } from '../../shared/collections/names-and-faces.js';

const PIXEL_MEAN = 127;
const PIXEL_SCALE = 1 / 128;

export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  const out = new Float32Array(v.length);
  if (norm === 0) return out;
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm;
  return out;
}

/** One inference at a time per instance (the engine serialises them): the input tensor is reused. */
export class Embedder {
  private readonly chw = new Float32Array(3 * ALIGNED_FACE_SIZE * ALIGNED_FACE_SIZE);
  /** The model's input, reused by every run; after a run it holds what the model last saw. */
  readonly input = new Tensor('float32', this.chw, [1, 3, ALIGNED_FACE_SIZE, ALIGNED_FACE_SIZE]);

  constructor(private readonly session: InferenceSession) {}

  /** The embedding of the face that `toTemplate` (image → aligned crop) carries onto the 112x112 template. */
  async embed(image: RawImage, toTemplate: Affine): Promise<Float32Array> {
    warpAffineToPlanes(image, toTemplate, ALIGNED_FACE_SIZE, this.chw, PIXEL_MEAN, PIXEL_SCALE);
    const out = await this.session.run({ input: this.input });
    return l2Normalize(out['output']!.data as Float32Array);
  }

  /** The sharpness (sharpness.ts) of the face the last `embed` saw. */
  lastSharpness(): number {
    return laplacianVariance(this.chw, ALIGNED_FACE_SIZE, PIXEL_SCALE);
  }
}
