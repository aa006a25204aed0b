/**
 * Frames of a video through ffmpeg run locked down, on clips made here from course images: one frame every
 * second from 0 s, capped, scaled down; files that are not a video, a playlist that would fetch from the
 * network, a deadline and a memory limit, each refused with its reason. Run with the system's ffmpeg (.ci/run
 * installs Debian's) and with the npm build, the fallback; skipped with a message for one that is absent.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractFrames, type FrameOptions } from '../../src/app-tier/tasks/video/frames.js';
import { findTool, VideoToolError, type VideoTool } from '../../src/shared/video/tools.js';
import { createRequire } from 'node:module';
import { COURSE_IMAGES } from '../helpers/fixtures.js';

const require_ = createRequire(import.meta.url);

const options: FrameOptions = { everySeconds: 1, maxFrames: 100, timeoutMs: 30_000, memoryBytes: 1024 ** 3 };

function tool(find: () => VideoTool): VideoTool | undefined {
  try {
    return find();
  } catch (err) {
    console.warn(`Skipping some video-frame tests: ${(err as Error).message}`);
    return undefined;
  }
}
/** Mean grey-level difference of two pictures at 32x24. */
async function difference(a: Uint8Array, b: Uint8Array): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((img) => sharp(img).resize(32, 24).greyscale().raw().toBuffer()));
  return x!.reduce((sum, v, i) => sum + Math.abs(v - y![i]!), 0) / x!.length;
}

const system = tool(() => findTool('ffmpeg', undefined, { packaged: false }));
const packaged = tool(() => {
  const found = findTool('ffmpeg', undefined);
  // With a system ffmpeg, findTool prefers it: ask for the npm build by its path.
  return found.source === 'packaged'
    ? found
    : findTool('ffmpeg', (require_('@ffmpeg-installer/ffmpeg') as { path: string }).path);
});

describe.each([
  ['the system’s ffmpeg', system],
  ['the npm build of ffmpeg', packaged],
])('video frames with %s', (_which, ffmpeg) => {
  if (!ffmpeg) {
    it.skip('needs that ffmpeg and the course images');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'facefleet-video-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const clip = join(dir, 'class.mp4');

  beforeAll(async () => {
    // Three course faces, one second each at 4 frames a second, 640x480: a 3 s MP4.
    const frames = ['test_000', 'test_001', 'test_002'];
    let n = 0;
    for (const stem of frames) {
      const face = await sharp(`${COURSE_IMAGES}${stem}.jpg`).resize(240, 240).toBuffer();
      const still = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#556' } })
        .composite([{ input: face, left: 200, top: 120 }])
        .jpeg()
        .toBuffer();
      for (let i = 0; i < 4; i++) writeFileSync(join(dir, `in-${String(++n).padStart(3, '0')}.jpg`), still);
    }
    execFileSync(ffmpeg.path, [
      '-loglevel',
      'error',
      '-framerate',
      '4',
      '-i',
      join(dir, 'in-%03d.jpg'),
      '-c:v',
      'mpeg4',
      '-q:v',
      '3',
      clip,
    ]);
  });

  it('keeps one frame a second from 0 s, as JPEGs whose longest side is 1280 (a 640x480 video scaled up)', async () => {
    const frames = await extractFrames(ffmpeg!, clip, options);
    expect(frames.map((f) => f.atSeconds)).toEqual([0, 1, 2]);
    for (const f of frames) {
      const meta = await sharp(f.bytes).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width: 1280, height: 960 });
    }
  });

  it('caps the frames, and scales them to the longest side asked for', async () => {
    const frames = await extractFrames(ffmpeg, clip, { ...options, maxFrames: 2, longestSide: 320 });
    expect(frames).toHaveLength(2);
    expect(await sharp(frames[0]!.bytes).metadata()).toMatchObject({ width: 320, height: 240 });
  });

  it.each([
    ['a text file named .mp4', 'notes.mp4', 'these are notes', /Invalid data found when processing input/],
    [
      'a playlist that would fetch from the network',
      'list.m3u8',
      '#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:9/segment.ts\n',
      /Invalid data found when processing input/,
    ],
  ])('refuses %s', async (_what, name, content, message) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    const err = await extractFrames(ffmpeg!, path, options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VideoToolError);
    expect((err as VideoToolError).reason).toBe('refused');
    expect((err as Error).message).toMatch(message);
  });

  it('kills a decode past its deadline, and one past its memory limit fails', async () => {
    const slow = await extractFrames(ffmpeg!, clip, { ...options, timeoutMs: 1 }).catch((e: unknown) => e);
    expect((slow as VideoToolError).reason).toBe('timeout');
    const starved = await extractFrames(ffmpeg!, clip, { ...options, memoryBytes: 16 * 1024 ** 2 }).catch(
      (e: unknown) => e,
    );
    expect((starved as VideoToolError).reason).toBe('refused');
  });

  it('decodes keyframes only when asked: each frame is then the last keyframe at or before its time', async () => {
    // The same pictures with a keyframe every 8 frames: at 0 s and 2 s (the last one is kept too).
    const sparse = join(dir, 'sparse.mp4');
    execFileSync(ffmpeg.path, [
      '-loglevel',
      'error',
      '-y',
      '-i',
      clip,
      '-c:v',
      'mpeg4',
      '-q:v',
      '3',
      '-g',
      '8',
      sparse,
    ]);
    const all = await extractFrames(ffmpeg, sparse, options);
    const keyframes = await extractFrames(ffmpeg, sparse, { ...options, keyframesOnly: true });
    expect(keyframes.map((f) => f.atSeconds)).toEqual([0, 1, 2]);
    const [first, second, third] = ['in-001.jpg', 'in-005.jpg', 'in-009.jpg'].map((f) => readFileSync(join(dir, f)));
    // At 1 s, every frame decoded shows the second face; keyframes only, the first one still.
    expect(await difference(all[1]!.bytes, second!)).toBeLessThan(8);
    expect(await difference(keyframes[1]!.bytes, first!)).toBeLessThan(8);
    expect(await difference(keyframes[2]!.bytes, third!)).toBeLessThan(8);
  });

  it('reads the clip’s first frame as the picture it was made from', async () => {
    const [first] = await extractFrames(ffmpeg, clip, options);
    expect(await difference(first!.bytes, readFileSync(join(dir, 'in-001.jpg')))).toBeLessThan(8);
  });
});
