/**
 * 68-point facial landmarks (the iBUG 300-W layout) from a 64x64 greyscale crop of the detected box, and the
 * reduction of those 68 points to the five the alignment template uses.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import type { Point, RawImage } from './alignment.js';
import type { Box } from './detector.js';
import { Resampler } from './resample.js';

export const LANDMARK_INPUT_SIZE = 64;
export const LANDMARK_COUNT = 68;

/**
 * Five points in the template's order from the 68 iBUG points: each eye is the mean of its four lid points
 * (37, 38, 40, 41 and 43, 44, 46, 47; 0-based 36..47 are the eyes), the nose tip is point 30, and each mouth
 * corner is the mean of the outer (48, 54) and inner (60, 64) lip corners.
 */
export function fivePointsFrom68(points: readonly Point[]): Point[] {
  if (points.length !== LANDMARK_COUNT) {
    throw new RangeError(`expected ${LANDMARK_COUNT} landmarks, got ${points.length}`);
  }
  const mean = (...idx: number[]): Point => [
    idx.reduce((s, i) => s + points[i]![0], 0) / idx.length,
    idx.reduce((s, i) => s + points[i]![1], 0) / idx.length,
  ];
  return [mean(37, 38, 40, 41), mean(43, 44, 46, 47), mean(30), mean(48, 60), mean(54, 64)];
}

/** The integer crop the landmark model sees: the detected box, clipped to the image, at least 1 px. */
export function landmarkCrop(box: Box, image: { width: number; height: number }) {
  const left = Math.min(image.width - 1, Math.max(0, Math.floor(box.x1)));
  const top = Math.min(image.height - 1, Math.max(0, Math.floor(box.y1)));
  const right = Math.max(left + 1, Math.min(image.width, Math.ceil(box.x2)));
  const bottom = Math.max(top + 1, Math.min(image.height, Math.ceil(box.y2)));
  return { left, top, width: right - left, height: bottom - top };
}

/** One inference at a time per instance (the engine serialises them): the input tensor is reused. */
export class LandmarkModel {
  private readonly data = new Float32Array(LANDMARK_INPUT_SIZE * LANDMARK_INPUT_SIZE);
  /** The model's input, reused by every run; after a run it holds what the model last saw. */
  readonly input = new Tensor('float32', this.data, [1, 1, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE]);
  private readonly resampler = new Resampler();

  constructor(private readonly session: InferenceSession) {}

  /** The 68 landmarks of the face in `box`, in original-image pixels. */
  async predict(image: RawImage, box: Box): Promise<Point[]> {
    const crop = landmarkCrop(box, image);
    // A greyscale crop of the box, as the model's reference code made it (a bilinear resize, then OpenCV's
    // BT.601 grey), scaled to pixel / 256 as it was trained.
    await this.resampler.resampleRegion(image, crop, {
      data: this.data,
      width: LANDMARK_INPUT_SIZE,
      height: LANDMARK_INPUT_SIZE,
      rect: { left: 0, top: 0, width: LANDMARK_INPUT_SIZE, height: LANDMARK_INPUT_SIZE },
      mean: 0,
      scale: 1 / 256,
      channels: 1,
    });
    const out = await this.session.run({ input: this.input });
    const xy = out['output']!.data as Float32Array;
    const points: Point[] = [];
    for (let i = 0; i < LANDMARK_COUNT; i++) {
      points.push([crop.left + xy[i * 2]! * crop.width, crop.top + xy[i * 2 + 1]! * crop.height]);
    }
    return points;
  }
}
