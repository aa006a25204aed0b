/**
 * Face detection with the Ultra-Light-Fast-Generic-Face-Detector RFB-320 (Linzaer, 2019). The ONNX graph
 * takes a 320x240 RGB image normalised to (x − 127) / 128 and returns, for each of its 4420 anchors, a
 * softmax face score and an already-decoded box in [0, 1] image coordinates (x1, y1, x2, y2).
 */
import type { InferenceSession } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import type { RawImage } from './alignment.js';
import { Resampler } from './resample.js';

export const DETECTOR_INPUT_WIDTH = 320;
export const DETECTOR_INPUT_HEIGHT = 240;
/** The detector's normalisation: (pixel − 127) / 128. The padding is grey 127, i.e. 0: it adds no edges. */
const PIXEL_MEAN = 127;
const PIXEL_SCALE = 1 / 128;

export interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export interface Detection {
  readonly box: Box;
  /** The detector's face probability, 0..1. */
  readonly score: number;
}

export interface DetectorOptions {
  /** Minimum face probability kept, 0..1. The detector's authors use 0.7. */
  readonly scoreThreshold: number;
  /** Boxes overlapping a better one by more than this intersection-over-union are suppressed. */
  readonly iouThreshold: number;
  /**
   * Border added on every side before detecting, as a fraction of the image's longer side. The detector
   * misses faces that fill the frame or touch its edge, and the course images are 64x64 tight crops.
   */
  readonly padFraction: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  scoreThreshold: 0.7,
  iouThreshold: 0.3,
  padFraction: 0.25,
};

/** Where the original image sits inside the detector's 320x240 input. */
export interface Letterbox {
  readonly scale: number;
  readonly offsetX: number;
  readonly offsetY: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Fits the image plus its padding inside the detector input without changing its aspect ratio, centred.
 */
export function letterbox(width: number, height: number, padFraction: number): Letterbox {
  const pad = Math.max(width, height) * padFraction;
  const scale = Math.min(DETECTOR_INPUT_WIDTH / (width + 2 * pad), DETECTOR_INPUT_HEIGHT / (height + 2 * pad));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  return {
    scale,
    width: w,
    height: h,
    offsetX: Math.floor((DETECTOR_INPUT_WIDTH - w) / 2),
    offsetY: Math.floor((DETECTOR_INPUT_HEIGHT - h) / 2),
  };
}

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression: best score first, dropping boxes that overlap a kept one too much. */
export function nonMaxSuppression(detections: readonly Detection[], iouThreshold: number): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.every((k) => iou(k.box, d.box) <= iouThreshold)) kept.push(d);
  }
  return kept;
}

/** A rectangle of the image, in whole pixels, that one detector pass looks at. */
export interface Region {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Detector input pixels per image pixel of a tile: faces of about 12 input pixels, 24 image pixels, are found. */
export const TILE_SCALE = 0.5;
const TILE_WIDTH = DETECTOR_INPUT_WIDTH / TILE_SCALE;
const TILE_HEIGHT = DETECTOR_INPUT_HEIGHT / TILE_SCALE;
/** Tiles overlap by a quarter, so any face up to 160 x 120 image pixels lies whole inside one of them. */
const TILE_OVERLAP = 0.25;

/**
 * The tiles of a second, finer pass over a large image. One pass over the whole picture shrinks it to
 * 320x240, where the faces of a group photo shrink below what the detector can see; tiles of 640x480 are
 * looked at half-size instead. Images that already fit the detector at that scale need no tiles.
 */
export function tilesFor(width: number, height: number): Region[] {
  if (width <= TILE_WIDTH && height <= TILE_HEIGHT) return [];
  const spans = (size: number, tile: number) => {
    if (size <= tile) return [{ start: 0, length: size }];
    const count = Math.ceil((size - tile) / (tile * (1 - TILE_OVERLAP))) + 1;
    return Array.from({ length: count }, (_, i) => ({
      start: Math.round((i * (size - tile)) / (count - 1)),
      length: tile,
    }));
  };
  return spans(height, TILE_HEIGHT).flatMap((row) =>
    spans(width, TILE_WIDTH).map((col) => ({
      left: col.start,
      top: row.start,
      width: col.length,
      height: row.length,
    })),
  );
}

/**
 * True when a box found in a tile touches one of the tile's inner edges (an edge that is not the image's):
 * the face is cut there, and lies whole in a neighbouring tile or is big enough for the whole-image pass.
 */
export function cutByTileEdge(box: Box, tile: Region, image: { width: number; height: number }): boolean {
  const margin = 2;
  const right = tile.left + tile.width;
  const bottom = tile.top + tile.height;
  return (
    (tile.left > 0 && box.x1 <= tile.left + margin) ||
    (tile.top > 0 && box.y1 <= tile.top + margin) ||
    (right < image.width && box.x2 >= right - margin) ||
    (bottom < image.height && box.y2 >= bottom - margin)
  );
}

/**
 * Turns the raw model outputs of one pass into candidate detections in image pixels: threshold, map back
 * through the letterbox and the region's offset, clip to the region, drop degenerate boxes. No suppression:
 * candidates of every pass are suppressed together.
 */
export function decodeCandidates(
  scores: Float32Array,
  boxes: Float32Array,
  lb: Letterbox,
  region: Region,
  scoreThreshold: number,
): Detection[] {
  const candidates: Detection[] = [];
  const anchors = scores.length / 2;
  const toX = (v: number) => region.left + clamp((v * DETECTOR_INPUT_WIDTH - lb.offsetX) / lb.scale, 0, region.width);
  const toY = (v: number) => region.top + clamp((v * DETECTOR_INPUT_HEIGHT - lb.offsetY) / lb.scale, 0, region.height);
  for (let i = 0; i < anchors; i++) {
    const score = scores[i * 2 + 1]!;
    if (score < scoreThreshold) continue;
    const box = {
      x1: toX(boxes[i * 4]!),
      y1: toY(boxes[i * 4 + 1]!),
      x2: toX(boxes[i * 4 + 2]!),
      y2: toY(boxes[i * 4 + 3]!),
    };
    if (box.x2 - box.x1 < 2 || box.y2 - box.y1 < 2) continue;
    candidates.push({ box, score });
  }
  return candidates;
}

/**
 * One inference at a time per instance (the engine serialises them): the input tensor and the resampler's
 * rows are reused, because a fresh 0.9 MB array per image made V8 run a full garbage collection several times
 * a second.
 */
export class FaceDetector {
  private readonly chw = new Float32Array(3 * DETECTOR_INPUT_WIDTH * DETECTOR_INPUT_HEIGHT);
  /** The model's input, reused by every run; after a run it holds what the model last saw. */
  readonly input = new Tensor('float32', this.chw, [1, 3, DETECTOR_INPUT_HEIGHT, DETECTOR_INPUT_WIDTH]);
  private readonly resampler = new Resampler();

  constructor(
    private readonly session: InferenceSession,
    private readonly options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS,
  ) {}

  /** Every face in the image: one padded pass over the whole of it, tiles for large images, one suppression. */
  async detect(image: RawImage): Promise<Detection[]> {
    const whole = { left: 0, top: 0, width: image.width, height: image.height };
    const candidates = await this.detectRegion(image, whole, this.options.padFraction);
    for (const tile of tilesFor(image.width, image.height)) {
      const found = await this.detectRegion(image, tile, 0);
      candidates.push(...found.filter((d) => !cutByTileEdge(d.box, tile, image)));
    }
    return nonMaxSuppression(candidates, this.options.iouThreshold);
  }

  private async detectRegion(image: RawImage, region: Region, padFraction: number): Promise<Detection[]> {
    const lb = letterbox(region.width, region.height, padFraction);
    this.chw.fill(0);
    await this.resampler.resampleRegion(image, region, {
      data: this.chw,
      width: DETECTOR_INPUT_WIDTH,
      height: DETECTOR_INPUT_HEIGHT,
      rect: { left: lb.offsetX, top: lb.offsetY, width: lb.width, height: lb.height },
      mean: PIXEL_MEAN,
      scale: PIXEL_SCALE,
      channels: 3,
    });
    const out = await this.session.run({ input: this.input });
    return decodeCandidates(
      out['scores']!.data as Float32Array,
      out['boxes']!.data as Float32Array,
      lb,
      region,
      this.options.scoreThreshold,
    );
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
