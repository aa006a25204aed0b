/**
 * The recogniser's own limit: how fast the engine the workers run goes with no S3, SQS or HTTP around it,
 * first in this process (one thread), then with one process per worker fed straight from memory and started
 * together, as the workers of the pipeline run.
 */
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { RecognitionEngine } from '../../src/app-tier/recognition/engine.js';
import { decodeRgb } from '../../src/app-tier/recognition/image.js';
import { referenceFrom, type BareModels, type Reference } from './reference.js';

const CHILD = fileURLToPath(new URL('./limit-child.ts', import.meta.url));

export interface InProcessLimit {
  readonly images: number;
  readonly imagesPerSecond: number;
  /** Median time to recognise one image, one at a time: the recogniser's single-image latency. */
  readonly singleImageMs: number;
  readonly meanMs: number;
  /** Images in which no face was found. */
  readonly noFace: number;
  /** The bare-model reference, timed image by image beside the engine. */
  readonly reference: Reference;
}

/**
 * The engine on each image, one at a time; after each image, the reference: the same image decoded and one
 * run of each bare model. Interleaved, both see the same machine however its speed drifts.
 */
export async function measureInProcess(
  engine: RecognitionEngine,
  bare: BareModels,
  paths: readonly string[],
): Promise<InProcessLimit> {
  const images = await Promise.all(paths.map((p) => readFile(p)));
  await engine.analyze(images[0]!, 1); // warm-up: the first run allocates what later ones reuse
  await bare.runOnce();
  const durations: number[] = [];
  const decodes: number[] = [];
  const runs: Awaited<ReturnType<BareModels['runOnce']>>[] = [];
  let noFace = 0;
  let engineMs = 0;
  for (const bytes of images) {
    const t = performance.now();
    const { faces } = await engine.analyze(bytes, 1);
    const ms = performance.now() - t;
    durations.push(ms);
    engineMs += ms;
    if (faces.length === 0) noFace++;
    const d = performance.now();
    await decodeRgb(bytes, Number.MAX_SAFE_INTEGER);
    decodes.push(performance.now() - d);
    runs.push(await bare.runOnce());
  }
  const seconds = engineMs / 1000;
  durations.sort((a, b) => a - b);
  return {
    images: images.length,
    imagesPerSecond: images.length / seconds,
    singleImageMs: durations[Math.floor(durations.length / 2)]!,
    meanMs: (seconds * 1000) / images.length,
    noFace,
    reference: referenceFrom(decodes, runs),
  };
}

export interface ProcessesLimit {
  readonly processes: number;
  readonly imagesPerProcess: number;
  readonly imagesPerSecond: number;
}

/** Messages between this module and limit-child.ts. */
export type ChildMessage = { type: 'ready' } | { type: 'done'; images: number; startedAt: number; endedAt: number };
export type ParentMessage = { type: 'go' };

/**
 * Starts `processes` children that each load the engine and the images, waits until all are ready, starts them
 * at once, and divides every image recognised by the time from the first start to the last finish.
 */
export async function measureProcesses(processes: number, paths: readonly string[]): Promise<ProcessesLimit> {
  const children = Array.from({ length: processes }, () =>
    fork(CHILD, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    }),
  );
  const next = (child: (typeof children)[number], type: ChildMessage['type']) =>
    new Promise<ChildMessage>((resolve, reject) => {
      const onMessage = (m: ChildMessage) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`a limit process exited with code ${code}`)));
    });
  try {
    const ready = children.map((c) => next(c, 'ready'));
    for (const c of children) c.send({ paths });
    await Promise.all(ready);
    const done = children.map((c) => next(c, 'done'));
    for (const c of children) c.send({ type: 'go' } satisfies ParentMessage);
    const results = (await Promise.all(done)) as Extract<ChildMessage, { type: 'done' }>[];
    const images = results.reduce((n, r) => n + r.images, 0);
    const seconds = (Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt))) / 1000;
    return { processes, imagesPerProcess: paths.length, imagesPerSecond: images / seconds };
  } finally {
    for (const c of children) c.kill();
  }
}
