/** The recognition engine on the real ONNX models and real images. */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEngine, type RecognitionEngine } from '../../src/app-tier/recognition/engine.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { COURSE_IMAGES, LFW_IMAGES } from '../helpers/fixtures.js';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('the recognition engine', () => {
  let engine: RecognitionEngine;
  beforeAll(async () => {
    const config = loadConfig({});
    engine = await loadEngine(config.recognition);
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('finds the 30 px face of a 64x64 course image and embeds it as a unit vector', async () => {
    const { width, faces, timings } = await engine.analyze(readFileSync(`${COURSE_IMAGES}test_000.jpg`));
    expect(width).toBe(64);
    expect(faces).toHaveLength(1);
    const { box, embedding } = faces[0]!;
    expect(box.x2 - box.x1).toBeGreaterThan(15);
    expect(box.x2).toBeLessThanOrEqual(64);
    expect(embedding).toHaveLength(512);
    expect(dot(embedding, embedding)).toBeCloseTo(1, 4);
    expect(timings.detectMs).toBeGreaterThan(0);
  });

  it('gives the same face the same embedding whatever the format or colour', async () => {
    const jpeg = readFileSync(`${COURSE_IMAGES}test_004.jpg`);
    const [original, png, grey] = await Promise.all([
      engine.analyze(jpeg),
      sharp(jpeg)
        .png()
        .toBuffer()
        .then((b) => engine.analyze(b)),
      sharp(jpeg)
        .greyscale()
        .jpeg()
        .toBuffer()
        .then((b) => engine.analyze(b)),
    ]);
    expect(dot(original.faces[0]!.embedding, png.faces[0]!.embedding)).toBeGreaterThan(0.99);
    expect(grey.faces).toHaveLength(1);
  });

  it('scores two photos of one person above photos of two people (LFW_IMAGES)', async () => {
    const embed = async (file: string) =>
      (await engine.analyze(readFileSync(`${LFW_IMAGES}${file}`))).faces[0]!.embedding;
    const [a1, a2, b] = await Promise.all([
      embed('Aaron_Peirsol_0001.jpg'),
      embed('Aaron_Peirsol_0002.jpg'),
      embed('Aaron_Sorkin_0001.jpg'),
    ]);
    expect(dot(a1, a2)).toBeGreaterThan(dot(a1, b));
  });

  it('reports a large sideways photo upright, in its own pixels', async () => {
    // A 3000x2000 landscape photo, stored turned on its side (2000x3000) with EXIF orientation 6.
    const face = await sharp(readFileSync(`${LFW_IMAGES}Aaron_Peirsol_0001.jpg`))
      .resize(300)
      .toBuffer();
    const upright = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#607060' } })
      .composite([{ input: face, left: 2400, top: 200 }])
      .jpeg()
      .toBuffer();
    const stored = await sharp(upright).rotate(270).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const { width, height, faces } = await engine.analyze(stored);
    expect([width, height]).toEqual([3000, 2000]);
    const { x1, y1, x2, y2 } = faces[0]!.box;
    expect(x1).toBeGreaterThan(2400);
    expect(x2).toBeLessThan(2700);
    expect(y1).toBeGreaterThan(200);
    expect(y2).toBeLessThan(500);
  });

  it('finds no face in a blank picture', async () => {
    const blank = await sharp({ create: { width: 200, height: 150, channels: 3, background: '#6a6a6a' } })
      .png()
      .toBuffer();
    expect((await engine.analyze(blank)).faces).toEqual([]);
  });
});
