/**
 * Frames of an untrusted video, decoded by ffmpeg run locked down: only the container formats we take
 * (MP4/MOV, WebM/Matroska), only local files and pipes (no network protocol, so a crafted playlist cannot make
 * it fetch anything), a deadline after which it is killed with its whole process group, and an address-space
 * limit (prlimit). The system's ffmpeg is preferred (Debian's is maintained, with security fixes); without one,
 * none is used (the registry's packaged builds are years old): the caller says so.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The demuxers a video may be read with: MP4 and MOV (one demuxer), WebM (Matroska's). */
export const VIDEO_DEMUXERS = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm';

export interface FrameOptions {
  /** Seconds between two frames kept; the first is at 0 s. */
  readonly everySeconds: number;
  /** Most frames kept, whatever the length. */
  readonly maxFrames: number;
  /** ffmpeg is killed after this, in milliseconds. */
  readonly timeoutMs: number;
  /** ffmpeg's address-space limit, in bytes. */
  readonly memoryBytes: number;
  /** Frames wider than this are scaled down, in pixels. */
  readonly maxWidth?: number;
}

export interface Frame {
  readonly atSeconds: number;
  /** A JPEG. */
  readonly bytes: Buffer;
}

/** Why a video could not be read, for the caller to turn into its answer. */
export class VideoDecodeError extends Error {
  constructor(
    message: string,
    readonly reason: 'no-ffmpeg' | 'timeout' | 'refused',
  ) {
    super(message);
    this.name = 'VideoDecodeError';
  }
}

const SYSTEM_FFMPEG = ['/usr/bin/ffmpeg', '/usr/local/bin/ffmpeg'];

/** The ffmpeg to run: FFMPEG_PATH's, else the system's; undefined when there is none. */
export function findFfmpeg(configured?: string): string | undefined {
  if (configured) return existsSync(configured) ? configured : undefined;
  return SYSTEM_FFMPEG.find((p) => existsSync(p));
}

/** ffmpeg's arguments for the frames of `input` into `outDir` (frame-0001.jpg, …). */
export function ffmpegArguments(input: string, outDir: string, o: FrameOptions): string[] {
  const width = o.maxWidth ?? 1280;
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
    '-i',
    input,
    '-an',
    '-vf',
    `fps=1/${o.everySeconds}:start_time=0,scale='min(${width},iw)':-2`,
    '-frames:v',
    String(o.maxFrames),
    '-q:v',
    '3',
    join(outDir, 'frame-%04d.jpg'),
  ];
}

/** The frames of the video at `input`, one every `everySeconds`, at most `maxFrames`. */
export async function extractFrames(ffmpeg: string, input: string, o: FrameOptions): Promise<Frame[]> {
  const outDir = await mkdtemp(join(tmpdir(), 'facefleet-frames-'));
  try {
    await run(ffmpeg, ffmpegArguments(input, outDir, o), o);
    const names = (await readdir(outDir)).filter((n) => /^frame-\d{4}\.jpg$/.test(n)).sort();
    return Promise.all(
      names.map(async (name, i) => ({ atSeconds: i * o.everySeconds, bytes: await readFile(join(outDir, name)) })),
    );
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

function run(ffmpeg: string, args: string[], o: FrameOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    // prlimit caps its address space; its own process group lets the deadline kill it with any child.
    const child = spawn('prlimit', [`--as=${o.memoryBytes}`, '--', ffmpeg, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      reject(new VideoDecodeError(`decoding took longer than ${o.timeoutMs / 1000} s`, 'timeout'));
    }, o.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else if (signal !== 'SIGKILL')
        reject(new VideoDecodeError(`ffmpeg could not read it: ${stderr.trim().split('\n').pop() ?? code}`, 'refused'));
    });
  });
}
