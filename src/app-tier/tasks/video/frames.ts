/**
 * Frames of an untrusted video, decoded by ffmpeg run locked down (tools.ts): only the container formats we
 * take (MP4/MOV, WebM/Matroska), only local files (no network protocol, so a crafted playlist cannot make it
 * fetch anything), a deadline after which it is killed with its whole process group, and an address-space
 * limit.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, VIDEO_DEMUXERS, type RunLimits, type VideoTool } from '../../../shared/video/tools.js';

export interface FrameOptions extends RunLimits {
  /** Seconds between two frames kept; the first is at 0 s. */
  readonly everySeconds: number;
  /** Most frames kept, whatever the length. */
  readonly maxFrames: number;
  /**
   * The frames' longest side, in pixels (default 1280): larger videos are scaled down, smaller ones up, so that
   * the detector looks at every frame in tiles, where faces of 25 px are found. A 640x480 frame looked at whole
   * misses faces under some 45 px: the students at the back of a room recorded by a webcam.
   */
  readonly longestSide?: number;
  /**
   * Decode the keyframes only, each frame kept being the last keyframe at or before its time: for frames far
   * apart (a long video), where decoding every frame would cost ten times more and show nothing more.
   */
  readonly keyframesOnly?: boolean;
}

/** The frames' longest side unless told otherwise: 1280x720 for HD video, 1280x960 for a 640x480 webcam. */
export const DEFAULT_LONGEST_SIDE = 1280;

/** From this many seconds between the frames kept, only keyframes are decoded (most encoders put one every 1–10 s). */
export const KEYFRAMES_ONLY_FROM_SECONDS = 10;

export interface Frame {
  readonly atSeconds: number;
  /** A JPEG. */
  readonly bytes: Buffer;
}

/** ffmpeg's arguments for the frames of `input` into `outDir` (frame-0001.jpg, …). */
export function ffmpegArguments(input: string, outDir: string, options: FrameOptions): string[] {
  const side = options.longestSide ?? DEFAULT_LONGEST_SIDE;
  return [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    // Local files only: no http, no tcp, no concat of other files.
    '-protocol_whitelist',
    'file',
    '-format_whitelist',
    VIDEO_DEMUXERS,
    ...(options.keyframesOnly ? ['-skip_frame', 'nokey'] : []),
    '-i',
    input,
    '-an',
    '-vf',
    // Keyframes only, the last one has no next frame to end it: passed through at the end rather than dropped.
    `fps=1/${options.everySeconds}:start_time=0${options.keyframesOnly ? ':eof_action=pass' : ''},` +
      `scale='if(gte(iw,ih),${side},-2)':'if(gte(iw,ih),-2,${side})'`,
    '-frames:v',
    String(options.maxFrames),
    '-q:v',
    '3',
    join(outDir, 'frame-%04d.jpg'),
  ];
}

/** The frames of the video at `input`, one every `everySeconds` from 0 s, at most `maxFrames`. */
export async function extractFrames(ffmpeg: VideoTool, input: string, options: FrameOptions): Promise<Frame[]> {
  const outDir = await mkdtemp(join(tmpdir(), 'facefleet-frames-'));
  try {
    await runTool(ffmpeg, ffmpegArguments(input, outDir, options), options);
    const names = (await readdir(outDir)).filter((n) => /^frame-\d{4}\.jpg$/.test(n)).sort();
    return Promise.all(
      names.map(async (name, i) => ({
        atSeconds: i * options.everySeconds,
        bytes: await readFile(join(outDir, name)),
      })),
    );
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
