/**
 * The onnxruntime session settings of each model, in one place: the engine and the benchmark's bare-model
 * reference open their sessions with exactly these.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { AppError } from '../../shared/wire/errors.js';
import { MODEL_FILES, type ModelName } from '../../shared/models.js';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';
export const GRAPH_OPTIMIZATION_LEVELS: readonly GraphOptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

/**
 * Each model's graph optimisation level, chosen by measurement (`npm run bench` times every level of every
 * model, denormals flushed, and says which is fastest on the machine at hand). With denormals flushed, 'all'
 * was fastest for each of the three models on both CPUs measured, median ms per run, one thread:
 *
 * | model     | AMD EPYC (Zen 3): disabled / all | Intel Xeon (Sapphire Rapids): disabled / all |
 * | --------- | -------------------------------- | -------------------------------------------- |
 * | detector  | 9.4 / 3.9                        | 3x faster at 'all' (issue report)            |
 * | landmarks | 1.5 / 0.5                        | 3x faster at 'all' (issue report)            |
 * | embedder  | 14.8 / 10.8                      | 20.6 / 9.0 (63.6 at 'all' without flushing)  |
 */
export const GRAPH_OPTIMIZATION: Readonly<Record<ModelName, GraphOptimizationLevel>> = {
  detector: 'all',
  landmarks: 'all',
  embedder: 'all',
};

/**
 * One intra-op thread and spinning off: a worker process runs per core, and spinning threads of two sessions
 * on one core ran three times slower. Denormal floats are flushed to zero: the embedder's activations decay
 * into denormals, which some CPUs compute in microcode; on an Intel Xeon it ran 63.6 ms per face without the
 * flush and 9.0 ms with it (on AMD EPYC the flush changes nothing measurable), and no result depends on
 * values below 1e-38.
 */
export function sessionOptions(
  level: GraphOptimizationLevel,
  overrides: Readonly<Record<string, string>> = {},
): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: level,
    extra: {
      session: {
        'intra_op.allow_spinning': '0',
        'inter_op.allow_spinning': '0',
        set_denormal_as_zero: '1',
        ...overrides,
      },
    },
  };
}

export function modelPath(modelDir: string, name: ModelName): string {
  const path = join(modelDir, MODEL_FILES[name].file);
  if (!existsSync(path)) throw new AppError('MODELS_MISSING', { detail: `${path} does not exist` });
  return path;
}

/** Opens one model with its chosen settings (or another graph level, for the benchmark's comparison). */
export function openModel(
  modelDir: string,
  name: ModelName,
  level: GraphOptimizationLevel = GRAPH_OPTIMIZATION[name],
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath(modelDir, name), sessionOptions(level));
}
