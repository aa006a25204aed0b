/**
 * The recognition engine behind one small interface: bytes in, faces (box, score, landmarks, embedding) out.
 * detect → 68 landmarks → 5-point similarity warp onto the ArcFace template → 512-d embedding.
 */
import { AppError } from '../../shared/wire/errors.js';
import { OneAtATime } from '../../shared/one-at-a-time.js';
import { ARCFACE_TEMPLATE, estimateSimilarity, type Point } from './alignment.js';
import { DEFAULT_DETECTOR_OPTIONS, FaceDetector, type Box, type DetectorOptions } from './detector.js';
import { Embedder } from './embedder.js';
import { decodeRgb } from './image.js';
import { fivePointsFrom68, LandmarkModel } from './landmarks.js';
import { openModel } from './sessions.js';

export interface Face {
  /** In pixels of the upright original image. */
  readonly box: Box;
  readonly score: number;
  /** Five alignment points: eyes, nose tip, mouth corners. */
  readonly points: readonly Point[];
  readonly embedding: Float32Array;
  /**
   * How sharp the aligned face is (sharpness.ts): low for a blurred face or a small one stretched to 112 px.
   * Measured only when asked (enrollment): 0.14 ms a face that recognition does not need.
   */
  readonly sharpness?: number;
}

/** Milliseconds spent in each stage of one image. */
export interface StageTimings {
  decodeMs: number;
  detectMs: number;
  landmarksMs: number;
  embedMs: number;
}

export interface Analysis {
  /** Size of the upright original image, in pixels. */
  readonly width: number;
  readonly height: number;
  /** Most prominent first, at most `maxFaces` of them. */
  readonly faces: Face[];
  /** Faces detected, including those beyond `maxFaces` that were not embedded. */
  readonly facesFound: number;
  readonly timings: StageTimings;
}

export interface AnalyzeOptions {
  readonly rule?: ProminenceRule;
  readonly sharpness?: boolean;
}

export interface EngineOptions {
  readonly modelDir: string;
  readonly detector?: DetectorOptions;
  /** Decoded pixel count above which an image is refused, guarding against decompression bombs. */
  readonly maxImagePixels: number;
}

export interface RecognitionEngine {
  /**
   * Detects every face and embeds up to `maxFaces` of them (default 1), most prominent first by `rule` (default
   * `centred`), with each one's sharpness if asked (enrollment: ENROLLMENT_ANALYSIS).
   */
  analyze(bytes: Uint8Array, maxFaces?: number, options?: AnalyzeOptions): Promise<Analysis>;
  /**
   * Runs each model once on a synthetic input. onnxruntime allocates and plans on its first run, which made a
   * cold worker's first request several times slower than the rest; workers warm up before taking messages.
   */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

/** Creates the onnxruntime sessions, with each model's settings from sessions.ts. */
export async function loadEngine(options: EngineOptions): Promise<RecognitionEngine> {
  const [detectSession, landmarkSession, featureSession] = await Promise.all([
    openModel(options.modelDir, 'detector'),
    openModel(options.modelDir, 'landmarks'),
    openModel(options.modelDir, 'embedder'),
  ]);
  const detector = new FaceDetector(detectSession, options.detector ?? DEFAULT_DETECTOR_OPTIONS);
  const landmarks = new LandmarkModel(landmarkSession);
  const embedder = new Embedder(featureSession);

  const analyzeOne = async (bytes: Uint8Array, maxFaces: number, how: AnalyzeOptions): Promise<Analysis> => {
    const timings: StageTimings = { decodeMs: 0, detectMs: 0, landmarksMs: 0, embedMs: 0 };
    let t = performance.now();
    const lap = (stage: keyof StageTimings) => {
      const now = performance.now();
      timings[stage] += now - t;
      t = now;
    };
    const image = await decodeImage(bytes, options.maxImagePixels);
    lap('decodeMs');
    const detections = rankByProminence(await detector.detect(image), image, how.rule);
    lap('detectMs');
    // Boxes and points are found on the working image and reported on the original.
    const toOriginal = image.originalWidth / image.width;
    const faces: Face[] = [];
    for (const d of detections.slice(0, maxFaces)) {
      const points = fivePointsFrom68(await landmarks.predict(image, d.box));
      lap('landmarksMs');
      faces.push({
        box: scaleBox(d.box, toOriginal),
        score: d.score,
        points: points.map(([x, y]) => [x * toOriginal, y * toOriginal] as const),
        embedding: await embedder.embed(image, estimateSimilarity(points, ARCFACE_TEMPLATE)),
        ...(how.sharpness ? { sharpness: embedder.lastSharpness() } : {}),
      });
      lap('embedMs');
    }
    return {
      width: image.originalWidth,
      height: image.originalHeight,
      faces,
      facesFound: detections.length,
      timings,
    };
  };

  const warmUpOnce = async () => {
    const grey = { data: Buffer.alloc(160 * 120 * 3, 127), width: 160, height: 120, channels: 3 };
    await detector.detect(grey);
    await landmarks.predict(grey, { x1: 40, y1: 20, x2: 120, y2: 100 });
    await embedder.embed(grey, [1, 0, 0, 0, 1, 0]);
  };

  // The models reuse their input buffers, so analyses run one after another (a worker asks for them that way
  // anyway: one core, one image at a time).
  const queue = new OneAtATime();
  return {
    analyze: (bytes, maxFaces = 1, options = {}) => queue.run(() => analyzeOne(bytes, maxFaces, options)),
    warmUp: () => queue.run(warmUpOnce),
    async close() {
      await queue.idle();
      await Promise.all([detectSession.release(), landmarkSession.release(), featureSession.release()]);
    },
  };
}

/**
 * Ways to pick the subject of a photo among its faces, as weights (higher first). `centred`, the default, is
 * box area times (1 − distance of the box centre from the image centre, as a fraction of the image's size):
 * photos are framed on their subject, so a big background face at the edge loses to a central one.
 * `npm run bench:accuracy` measures all three on LFW.
 */
export const PROMINENCE_RULES = {
  largest: (box: Box) => area(box),
  score: (_box: Box, score: number) => score,
  centred: (box: Box, _score: number, image: { width: number; height: number }) => {
    const dx = ((box.x1 + box.x2) / 2 - image.width / 2) / image.width;
    const dy = ((box.y1 + box.y2) / 2 - image.height / 2) / image.height;
    return area(box) * (1 - Math.min(1, Math.hypot(dx, dy)));
  },
} as const satisfies Record<string, (box: Box, score: number, image: { width: number; height: number }) => number>;
export type ProminenceRule = keyof typeof PROMINENCE_RULES;

/** Orders detections so the subject comes first, by one of the rules above. */
export function rankByProminence<T extends { box: Box; score: number }>(
  detections: readonly T[],
  image: { width: number; height: number },
  rule: ProminenceRule = 'centred',
): T[] {
  const weight = PROMINENCE_RULES[rule];
  return [...detections].sort((a, b) => weight(b.box, b.score, image) - weight(a.box, a.score, image));
}

function area(box: Box): number {
  return (box.x2 - box.x1) * (box.y2 - box.y1);
}

function scaleBox(box: Box, factor: number): Box {
  return { x1: box.x1 * factor, y1: box.y1 * factor, x2: box.x2 * factor, y2: box.y2 * factor };
}

/** Decodes with the pixel limit, turning codec failures into the catalogue's "not a valid image" error. */
async function decodeImage(bytes: Uint8Array, maxImagePixels: number) {
  try {
    return await decodeRgb(bytes, maxImagePixels);
  } catch (err) {
    throw new AppError('INVALID_IMAGE', {}, err);
  }
}
