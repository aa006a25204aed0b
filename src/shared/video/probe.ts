/**
 * What a video's container header says (ffprobe, run locked down like ffmpeg): its container, duration and
 * picture size, read before anything is stored or decoded, so that a 10-hour or an 8K video is refused for
 * what it is at once. A file whose first bytes are no MP4/MOV or WebM header is refused without running any
 * tool.
 */
import { open } from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '../wire/errors.js';
import { runTool, VIDEO_DEMUXERS, VideoToolError, type RunLimits, type VideoTool } from './tools.js';

/** ffprobe reads a header only: a short deadline of its own, for the web tier and the workers alike. */
export const PROBE_TIMEOUT_MS = 30_000;

export type VideoContainer = 'mp4' | 'mov' | 'webm';

export interface VideoInfo {
  readonly container: VideoContainer;
  /** Undefined when the header does not say (a WebM a browser recorded, say). */
  readonly durationSeconds: number | undefined;
  readonly width: number;
  readonly height: number;
  readonly codec: string;
}

export interface VideoLimits {
  readonly maxBytes: number;
  readonly maxSeconds: number;
  /** Longest side, in pixels. */
  readonly maxDimension: number;
}

/** The container by its first bytes: an ISO BMFF `ftyp` box (MP4, MOV) or an EBML header (WebM, Matroska). */
export async function sniffContainer(path: string): Promise<'iso' | 'ebml' | undefined> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(12);
    const { bytesRead } = await file.read(head, 0, 12, 0);
    if (bytesRead >= 8 && ['ftyp', 'moov', 'mdat', 'wide', 'free'].includes(head.toString('latin1', 4, 8)))
      return 'iso';
    if (bytesRead >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return 'ebml';
    return undefined;
  } finally {
    await file.close();
  }
}

const number = z.coerce.number().finite().nonnegative();
const probeSchema = z.object({
  format: z.object({
    format_name: z.string(),
    duration: number.optional(),
    tags: z.record(z.string(), z.string()).optional(),
  }),
  streams: z
    .array(
      z.object({
        codec_type: z.string().optional(),
        codec_name: z.string().optional(),
        width: z.number().int().positive().optional(),
        height: z.number().int().positive().optional(),
        duration: number.optional(),
      }),
    )
    .default([]),
});

/** The header of the video at `path`; an `AppError` for a file that is not one we take. */
export async function probeVideo(ffprobe: VideoTool, path: string, limits: RunLimits): Promise<VideoInfo> {
  if (!(await sniffContainer(path))) throw new AppError('NOT_A_VIDEO');
  let output: string;
  try {
    output = await runTool(
      ffprobe,
      ffprobeArguments(path, ['-print_format', 'json', '-show_format', '-show_streams']),
      limits,
    );
  } catch (err) {
    if (err instanceof VideoToolError && err.reason !== 'no-tool')
      throw new AppError('VIDEO_UNREADABLE', { reason: err.message }, err);
    throw err;
  }
  const parsed = probeSchema.safeParse(JSON.parse(output));
  if (!parsed.success) throw new AppError('VIDEO_UNREADABLE', { reason: 'its header could not be read' });
  const { format, streams } = parsed.data;
  const video = streams.find((s) => s.codec_type === 'video' && s.width && s.height);
  if (!video) throw new AppError('VIDEO_NO_PICTURE');
  const container: VideoContainer = format.format_name.includes('webm')
    ? 'webm'
    : format.tags?.['major_brand']?.trim() === 'qt'
      ? 'mov'
      : 'mp4';
  const duration = format.duration ?? video.duration;
  return {
    container,
    durationSeconds: duration,
    width: video.width!,
    height: video.height!,
    codec: video.codec_name ?? 'unknown',
  };
}

/** Refuses a video over the limits, with the sentence that says which. */
export function checkVideoLimits(info: VideoInfo, bytes: number, limits: VideoLimits): void {
  if (bytes > limits.maxBytes) throw new AppError('VIDEO_TOO_LARGE', { limitBytes: limits.maxBytes });
  if (info.durationSeconds !== undefined && info.durationSeconds > limits.maxSeconds)
    throw new AppError('VIDEO_TOO_LONG', {
      seconds: Math.round(info.durationSeconds),
      limitSeconds: limits.maxSeconds,
    });
  if (Math.max(info.width, info.height) > limits.maxDimension)
    throw new AppError('VIDEO_RESOLUTION_TOO_HIGH', {
      width: info.width,
      height: info.height,
      limit: limits.maxDimension,
    });
  if (info.durationSeconds === 0) throw new AppError('VIDEO_NO_FRAMES');
}

/**
 * Seconds between the frames looked at: `everySeconds`, or wider when that would take more than `maxFrames`
 * over the video's length, so that the frames still span the whole video.
 */
export function frameInterval(durationSeconds: number | undefined, everySeconds: number, maxFrames: number): number {
  if (durationSeconds === undefined || durationSeconds / everySeconds < maxFrames) return everySeconds;
  return Math.ceil((durationSeconds / maxFrames) * 100) / 100;
}

/**
 * When the video's last picture is, in seconds, from its packets' timestamps: what the file holds, whatever
 * its header claims. Reads the packets' headers, decodes nothing. Undefined when it has none.
 */
export async function lastPictureSeconds(
  ffprobe: VideoTool,
  path: string,
  limits: RunLimits,
): Promise<number | undefined> {
  const output = await runTool(
    ffprobe,
    ffprobeArguments(path, ['-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0']),
    limits,
  );
  const times = output
    .split('\n')
    .map((line) => Number.parseFloat(line))
    .filter(Number.isFinite);
  return times.length > 0 ? Math.max(...times) : undefined;
}

/** ffprobe on an untrusted file: errors only, local files only, our demuxers only; then what to print. */
function ffprobeArguments(path: string, show: readonly string[]): string[] {
  return ['-v', 'error', '-protocol_whitelist', 'file', '-format_whitelist', VIDEO_DEMUXERS, ...show, path];
}
