/**
 * One process of the multi-process limit measurement (see limit.ts): loads the engine and its images into
 * memory, says it is ready, and on "go" recognises them all, reporting wall-clock start and end.
 */
import { readFile } from 'node:fs/promises';
import { loadEngine } from '../../src/app-tier/recognition/engine.js';
import { loadConfig } from '../../src/shared/config/config.js';
import type { ChildMessage } from './limit.js';

const send = (m: ChildMessage) => process.send!(m);

process.once('message', async ({ paths }: { paths: string[] }) => {
  const engine = await loadEngine(loadConfig().recognition);
  const images = await Promise.all(paths.map((p) => readFile(p)));
  await engine.analyze(images[0]!, 1);
  process.once('message', async () => {
    const startedAt = Date.now();
    for (const bytes of images) await engine.analyze(bytes, 1);
    send({ type: 'done', images: images.length, startedAt, endedAt: Date.now() });
    await engine.close();
  });
  send({ type: 'ready' });
});
