/**
 * Videos made from still images of ../shared for the tests and the video benchmark (never committed): each
 * segment is a face pasted on a plain background for some seconds, encoded by ffmpeg as MP4 (H.264), WebM (VP8)
 * or MOV.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

export interface Segment {
  /** A face image; undefined: an empty room. */
  readonly image?: string;
  readonly seconds: number;
}

/** Frames per second of the stills: two, so that a frame every second lands on each segment. */
const FPS = 2;

export interface ClipOptions {
  readonly container?: keyof typeof CODECS;
  /** ffmpeg's output options after the codec's (`-movflags +faststart`, `-r 30`). */
  readonly extra?: readonly string[];
  /** The picture's size; default 640x480. */
  readonly width?: number;
  readonly height?: number;
  /** The pasted photo's side, in pixels; default about half the height. */
  readonly faceSide?: number;
}

export const CODECS = {
  mp4: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
  webm: ['-c:v', 'libvpx', '-b:v', '1M'],
  mov: ['-c:v', 'mpeg4', '-q:v', '3', '-f', 'mov'],
} as const;

/** A clip of the segments, one after another, as `out`. */
export async function makeClip(
  ffmpeg: string,
  segments: readonly Segment[],
  out: string,
  { container = 'mp4', extra = [], width = 640, height = 480, faceSide }: ClipOptions = {},
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'facefleet-clip-'));
  try {
    let n = 0;
    // The face takes about half the picture's height, in its middle (250 px at 640x480).
    const side = faceSide ?? Math.round(height * 0.52);
    const place = { left: Math.round((width - side) / 2), top: Math.round((height - side) / 2) };
    for (const segment of segments) {
      const background = sharp({ create: { width, height, channels: 3, background: '#5a6070' } });
      const still = await (
        segment.image
          ? background.composite([{ input: await sharp(segment.image).resize(side, side).toBuffer(), ...place }])
          : background
      )
        .jpeg({ quality: 92 })
        .toBuffer();
      for (let i = 0; i < segment.seconds * FPS; i++)
        writeFileSync(join(dir, `in-${String(++n).padStart(4, '0')}.jpg`), still);
    }
    execFileSync(ffmpeg, [
      '-loglevel',
      'error',
      '-y',
      '-framerate',
      String(FPS),
      '-i',
      join(dir, 'in-%04d.jpg'),
      ...CODECS[container],
      ...extra,
      out,
    ]);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A clip from one of ffmpeg's own sources (`lavfi`): a plain colour of any size and length, or silence. */
export function lavfiClip(ffmpeg: string, source: string, out: string, args: readonly string[]): string {
  execFileSync(ffmpeg, ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source, ...args, out]);
  return out;
}
