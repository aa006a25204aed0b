/** A video's limits as its header says, and the frames looked at over its length. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/shared/wire/errors.js';
import { checkVideoLimits, frameInterval, sniffContainer, type VideoInfo } from '../../src/shared/video/probe.js';

const limits = { maxBytes: 1000, maxSeconds: 3 * 3600, maxDimension: 3840 };
const info = (o: Partial<VideoInfo> = {}): VideoInfo => ({
  container: 'mp4',
  durationSeconds: 60,
  width: 1920,
  height: 1080,
  codec: 'h264',
  ...o,
});
const refusal = (f: () => void) => {
  try {
    f();
  } catch (err) {
    return [(err as AppError).code, (err as AppError).message];
  }
  return undefined;
};

describe('video limits', () => {
  it('pass a 4K lecture of three hours, and one whose header does not say how long it is', () => {
    expect(
      refusal(() => checkVideoLimits(info({ width: 3840, height: 2160, durationSeconds: 10_800 }), 1000, limits)),
    ).toBeUndefined();
    expect(
      refusal(() => checkVideoLimits(info({ durationSeconds: undefined, container: 'webm' }), 10, limits)),
    ).toBeUndefined();
  });

  it.each([
    [info(), 1001, 'VIDEO_TOO_LARGE', 'The video is larger than the 0.0 MiB limit for videos.'],
    [
      info({ durationSeconds: 36_000 }),
      1,
      'VIDEO_TOO_LONG',
      'The video "upload" lasts 10 h 0 min, longer than the 3 h 0 min limit; send a shorter cut.',
    ],
    [
      info({ width: 7680, height: 4320 }),
      1,
      'VIDEO_RESOLUTION_TOO_HIGH',
      'The video "upload" is 7680x4320 pixels; its longest side may be at most 3840. Scale it down and send it again.',
    ],
    // Portrait counts its longest side too.
    [info({ width: 2160, height: 4096 }), 1, 'VIDEO_RESOLUTION_TOO_HIGH', expect.stringContaining('2160x4096')],
    [info({ durationSeconds: 0 }), 1, 'VIDEO_NO_FRAMES', 'The video "upload" has no frame to look at.'],
  ])('refuse %#', (video, bytes, code, message) => {
    expect(refusal(() => checkVideoLimits(video, bytes, limits))).toEqual([code, message]);
  });
});

describe('the frames looked at', () => {
  it('are one every VIDEO_FRAME_SECONDS while that stays within the cap, else spread over the whole video', () => {
    expect(frameInterval(60, 1, 300)).toBe(1);
    expect(frameInterval(undefined, 2, 300)).toBe(2);
    // Three hours at one a second would be 10,800 frames: 300 of them, every 36 s, cover it all.
    expect(frameInterval(10_800, 1, 300)).toBe(36);
    expect(frameInterval(1000, 1, 300) * 300).toBeGreaterThanOrEqual(1000);
  });
});

describe('a container by its first bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facefleet-sniff-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it.each([
    ['an MP4', Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom')]), 'iso'],
    ['a WebM', Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81]), 'ebml'],
    ['a JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]), undefined],
    ['text', Buffer.from('#EXTM3U\nhttp://x/'), undefined],
    ['three bytes', Buffer.from('abc'), undefined],
  ])('%s', async (_what, bytes, kind) => {
    const path = join(dir, String(Math.random()));
    writeFileSync(path, bytes);
    expect(await sniffContainer(path)).toBe(kind);
  });
});
