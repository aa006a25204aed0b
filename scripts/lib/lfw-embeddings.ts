/**
 * The LFW View 1 training images embedded with the workers' engine (the subject face of each), for the
 * benchmarks that need real embeddings. Embedding them takes a few minutes, so the result is kept in the data
 * directory (`.facefleet/bench/`, git-ignored), named after the embedder's sha256: another model makes
 * another file.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadEngine } from '../../src/app-tier/recognition/engine.js';
import type { Config } from '../../src/shared/config/config.js';
import { EMBEDDING_DIMENSIONS } from '../../src/shared/collections/names-and-faces.js';
import { MODEL_FILES } from '../../src/shared/models.js';
import { seededUniform } from './random.js';

export interface LabelledEmbedding {
  readonly identity: string;
  readonly embedding: Float32Array;
}

export async function lfwEmbeddings(
  config: Config,
  dataset: string,
  log: (line: string) => void,
): Promise<{ embedded: LabelledEmbedding[]; images: number; noFace: number }> {
  const dir = join(config.dataDir, 'bench');
  const base = join(dir, `lfw-${MODEL_FILES.embedder.sha256.slice(0, 12)}`);
  try {
    const meta = JSON.parse(await readFile(`${base}.json`, 'utf8')) as {
      identities: string[];
      images: number;
      noFace: number;
    };
    const raw = await readFile(`${base}.f32`);
    const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    const embedded = meta.identities.map((identity, i) => ({
      identity,
      embedding: all.slice(i * EMBEDDING_DIMENSIONS, (i + 1) * EMBEDDING_DIMENSIONS),
    }));
    log(`LFW embeddings from ${base}.f32 (${embedded.length} faces)`);
    return { embedded, images: meta.images, noFace: meta.noFace };
  } catch {
    // Not made yet: made below.
  }
  const rows = parse(await readFile(join(dataset, 'labels.csv'), 'utf8'), { columns: true }) as {
    image: string;
    identity: string;
  }[];
  rows.sort((a, b) => (a.image < b.image ? -1 : 1));
  const engine = await loadEngine(config.recognition);
  await engine.warmUp();
  const embedded: LabelledEmbedding[] = [];
  let noFace = 0;
  const started = performance.now();
  for (const [i, row] of rows.entries()) {
    const { faces } = await engine.analyze(await readFile(join(dataset, 'images', row.image)), 1);
    if (faces[0]) embedded.push({ identity: row.identity, embedding: faces[0].embedding });
    else noFace++;
    if (i % 500 === 499) log(`  embedded ${i + 1} of ${rows.length} LFW images`);
  }
  await engine.close();
  log(
    `embedded ${embedded.length} LFW images in ${((performance.now() - started) / 1000).toFixed(0)} s (${noFace} without a face)`,
  );
  await mkdir(dir, { recursive: true });
  const all = new Float32Array(embedded.length * EMBEDDING_DIMENSIONS);
  embedded.forEach((e, i) => all.set(e.embedding, i * EMBEDDING_DIMENSIONS));
  await writeFile(`${base}.f32`, new Uint8Array(all.buffer));
  await writeFile(
    `${base}.json`,
    JSON.stringify({ identities: embedded.map((e) => e.identity), images: rows.length, noFace }),
  );
  return { embedded, images: rows.length, noFace };
}

/**
 * A sampler of vectors from the Gaussian with the mean and covariance of `xs` (ridge-regularised: 512
 * dimensions from a few thousand samples), normalised to unit length: synthetic faces shaped like real ones.
 */
export function gaussianOf(xs: readonly Float32Array[]): (seed: number) => Float32Array {
  const d = EMBEDDING_DIMENSIONS;
  const mean = new Float64Array(d);
  for (const x of xs) for (let i = 0; i < d; i++) mean[i]! += x[i]! / xs.length;
  const cov = new Float64Array(d * d);
  for (const x of xs) {
    for (let i = 0; i < d; i++) {
      const a = x[i]! - mean[i]!;
      for (let j = 0; j <= i; j++) cov[i * d + j]! += (a * (x[j]! - mean[j]!)) / (xs.length - 1);
    }
  }
  for (let i = 0; i < d; i++) cov[i * d + i]! += 1e-5;
  // Cholesky, lower triangle in place.
  for (let j = 0; j < d; j++) {
    let s = cov[j * d + j]!;
    for (let k = 0; k < j; k++) s -= cov[j * d + k]! ** 2;
    const diag = Math.sqrt(Math.max(s, 1e-12));
    cov[j * d + j] = diag;
    for (let i = j + 1; i < d; i++) {
      let t = cov[i * d + j]!;
      for (let k = 0; k < j; k++) t -= cov[i * d + k]! * cov[j * d + k]!;
      cov[i * d + j] = t / diag;
    }
  }
  return (seed) => {
    const next = seededUniform(seed);
    const z = new Float64Array(d);
    for (let i = 0; i < d; i++) z[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
    const v = new Float32Array(d);
    let norm = 0;
    for (let i = 0; i < d; i++) {
      let s = mean[i]!;
      for (let k = 0; k <= i; k++) s += cov[i * d + k]! * z[k]!;
      v[i] = s;
      norm += s * s;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < d; i++) v[i]! /= norm;
    return v;
  };
}
