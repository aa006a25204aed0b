/**
 * The bare-model reference: what one image would cost if recognition were nothing but a decode and one run of
 * each model. The engine's single-image time is compared with it, on the same machine in the same run, so the
 * ratio says how much the engine adds around its models, whatever the CPU.
 *
 * The models are opened exactly as the engine opens them (sessions.ts: one thread, denormals flushed, each
 * model's chosen graph level) and fed the very tensors the engine made for a real photo. The reference is
 * timed image by image, interleaved with the engine (limit.ts), because this machine's speed drifts by 20 %
 * within minutes: measured one after the other, the ratio would measure the drift. Every graph level of every model is timed too, so a run shows whether the
 * chosen level is still the fastest on this CPU.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import ort from 'onnxruntime-node';
import { ARCFACE_TEMPLATE, estimateSimilarity } from '../../src/app-tier/recognition/alignment.js';
import { FaceDetector } from '../../src/app-tier/recognition/detector.js';
import { Embedder } from '../../src/app-tier/recognition/embedder.js';
import { decodeRgb } from '../../src/app-tier/recognition/image.js';
import { fivePointsFrom68, LandmarkModel } from '../../src/app-tier/recognition/landmarks.js';
import {
  GRAPH_OPTIMIZATION,
  GRAPH_OPTIMIZATION_LEVELS,
  modelPath,
  openModel,
  sessionOptions,
  type GraphOptimizationLevel,
} from '../../src/app-tier/recognition/sessions.js';
import type { ModelName } from '../../src/shared/models.js';

const MODELS: readonly ModelName[] = ['detector', 'landmarks', 'embedder'];

/** Each model's median ms per run at every graph level, and the level the engine uses. */
export type ModelTimings = Readonly<
  Record<ModelName, { readonly chosen: GraphOptimizationLevel; readonly ms: Readonly<Record<string, number>> }>
>;

export interface Reference {
  /** Median ms of one decode (the engine's own decode call) over the images. */
  readonly decodeMs: number;
  /** Median ms of one run of each model at its chosen graph level. */
  readonly modelsMs: Readonly<Record<ModelName, number>>;
  /** decode + detector + landmarks + embedder: one image with one face, nothing else. */
  readonly totalMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * The tensors the engine's own models feed for a real photo: its first face detected, its landmarks, its
 * aligned crop. Real activations matter: the embedder ran 12.3 ms on an aligned face and 10 ms on noise here.
 */
async function realInputs(modelDir: string, photo: string): Promise<Record<ModelName, ort.Tensor>> {
  const image = await decodeRgb(await readFile(photo), Number.MAX_SAFE_INTEGER);
  const sessions = await Promise.all(MODELS.map((name) => openModel(modelDir, name)));
  try {
    const detector = new FaceDetector(sessions[0]!);
    const landmarks = new LandmarkModel(sessions[1]!);
    const embedder = new Embedder(sessions[2]!);
    const [face] = await detector.detect(image);
    if (!face) throw new Error(`the reference photo ${photo} shows no face`);
    // The detector's input now holds the last pass; a photo this small has only the whole-image pass.
    const points = fivePointsFrom68(await landmarks.predict(image, face.box));
    await embedder.embed(image, estimateSimilarity(points, ARCFACE_TEMPLATE));
    const copy = (t: ort.Tensor) => new ort.Tensor('float32', (t.data as Float32Array).slice(), t.dims);
    return { detector: copy(detector.input), landmarks: copy(landmarks.input), embedder: copy(embedder.input) };
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

async function timeModel(
  modelDir: string,
  name: ModelName,
  level: GraphOptimizationLevel,
  input: ort.Tensor,
  runs: number,
): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath(modelDir, name), sessionOptions(level));
  try {
    const feeds = { [session.inputNames[0]!]: input };
    for (let i = 0; i < 10; i++) await session.run(feeds);
    const durations: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await session.run(feeds);
      durations.push(performance.now() - t);
    }
    return median(durations);
  } finally {
    await session.release();
  }
}

/** Every model at every graph level, timed in a loop on `inputs` (what the engine feeds for a real photo). */
export async function measureModels(
  modelDir: string,
  inputs: Readonly<Record<ModelName, ort.Tensor>>,
  runs = 100,
): Promise<ModelTimings> {
  const timings = {} as Record<ModelName, { chosen: GraphOptimizationLevel; ms: Record<string, number> }>;
  for (const name of MODELS) {
    const ms: Record<string, number> = {};
    for (const level of GRAPH_OPTIMIZATION_LEVELS) {
      ms[level] = await timeModel(modelDir, name, level, inputs[name], runs);
    }
    timings[name] = { chosen: GRAPH_OPTIMIZATION[name], ms };
  }
  return timings;
}

/** The three models at their chosen levels, each with the input the engine made for a real photo. */
export class BareModels {
  private constructor(
    readonly inputs: Readonly<Record<ModelName, ort.Tensor>>,
    private readonly sessions: Readonly<Record<ModelName, ort.InferenceSession>>,
  ) {}

  static async open(modelDir: string, photo: string): Promise<BareModels> {
    const inputs = await realInputs(modelDir, photo);
    const [detector, landmarks, embedder] = await Promise.all(MODELS.map((name) => openModel(modelDir, name)));
    return new BareModels(inputs, { detector: detector!, landmarks: landmarks!, embedder: embedder! });
  }

  /** Runs each model once; milliseconds of each run. */
  async runOnce(): Promise<Record<ModelName, number>> {
    const ms = {} as Record<ModelName, number>;
    for (const name of MODELS) {
      const session = this.sessions[name];
      const t = performance.now();
      await session.run({ [session.inputNames[0]!]: this.inputs[name] });
      ms[name] = performance.now() - t;
    }
    return ms;
  }

  async close(): Promise<void> {
    await Promise.all(MODELS.map((name) => this.sessions[name].release()));
  }
}

/**
 * The same reference timed in tight loops instead: each decode after a decode, each model run after a run of
 * the same model, so caches stay warm for it. The floor no engine that runs three models in turn can reach;
 * printed beside the interleaved reference so the two can be compared.
 */
export async function loopReference(models: ModelTimings, paths: readonly string[]): Promise<Reference> {
  const images = await Promise.all(paths.map((p) => readFile(p)));
  for (const bytes of images.slice(0, 10)) await decodeRgb(bytes, Number.MAX_SAFE_INTEGER);
  const decodes: number[] = [];
  for (const bytes of images) {
    const t = performance.now();
    await decodeRgb(bytes, Number.MAX_SAFE_INTEGER);
    decodes.push(performance.now() - t);
  }
  const chosen = (name: ModelName) => models[name].ms[models[name].chosen]!;
  return referenceFrom(decodes, [
    { detector: chosen('detector'), landmarks: chosen('landmarks'), embedder: chosen('embedder') },
  ]);
}

/** Medians of the decodes and model runs timed beside the engine: the reference for one image. */
export function referenceFrom(decodes: number[], runs: Record<ModelName, number>[]): Reference {
  const decodeMs = median(decodes);
  const modelsMs = {} as Record<ModelName, number>;
  for (const name of MODELS) modelsMs[name] = median(runs.map((r) => r[name]));
  return { decodeMs, modelsMs, totalMs: decodeMs + modelsMs.detector + modelsMs.landmarks + modelsMs.embedder };
}

/** Instruction-set extensions that decide how fast the models run (onnxruntime picks kernels by them). */
const RELEVANT_FLAGS = ['avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'amx_bf16'];

export interface CpuInfo {
  readonly model: string;
  /** The relevant flags this CPU has, in the order above; empty where /proc/cpuinfo is not readable. */
  readonly flags: readonly string[];
}

export function cpuInfo(): CpuInfo {
  const model = cpus()[0]?.model.trim() ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    const present = new Set(line?.split(':')[1]?.trim().split(/\s+/) ?? []);
    return { model, flags: RELEVANT_FLAGS.filter((f) => present.has(f)) };
  } catch {
    return { model, flags: [] };
  }
}
