/**
 * The video tools (ffmpeg to decode, ffprobe to read a container's header) and how they are run on untrusted
 * uploads. Which binary: the one FFMPEG_PATH / FFPROBE_PATH names, else the system's (Debian and Ubuntu ship a
 * maintained build with security fixes; the AMI bake installs it where the distribution has one), else the
 * build packaged on the npm registry (`@ffmpeg-installer/ffmpeg`, `@ffprobe-installer/ffprobe`: old static
 * builds, kept so that `npm ci` alone is enough). Whoever finds them logs which is used.
 *
 * How: under prlimit (an address-space limit), in a process group of its own that is killed whole at the
 * deadline, with stdin closed and at most the last 2 KB of its error output kept.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';

/** The demuxers a video may be read with: MP4 and MOV (one demuxer), WebM (Matroska's). */
export const VIDEO_DEMUXERS = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm';

export type ToolName = 'ffmpeg' | 'ffprobe';

export interface VideoTool {
  readonly path: string;
  /** `configured`: FFMPEG_PATH / FFPROBE_PATH; `system`: the machine's; `packaged`: the npm build. */
  readonly source: 'configured' | 'system' | 'packaged';
}

const SYSTEM_DIRS = ['/usr/bin', '/usr/local/bin'];
const PACKAGES: Record<ToolName, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

/** Why a video tool could not do its work, for the caller to turn into its answer. */
export class VideoToolError extends Error {
  constructor(
    message: string,
    readonly reason: 'no-tool' | 'timeout' | 'refused',
  ) {
    super(message);
    this.name = 'VideoToolError';
  }
}

/**
 * The tool to run: the configured path (which must be executable), else the system's, else the packaged one.
 * Throws a `VideoToolError('no-tool')` that says how to fix it when there is none.
 */
export function findTool(name: ToolName, configured?: string, { packaged = true } = {}): VideoTool {
  if (configured) {
    if (executable(configured)) return { path: configured, source: 'configured' };
    throw new VideoToolError(
      `${name.toUpperCase()}_PATH is ${configured}, which is not an executable file; fix the setting or unset it`,
      'no-tool',
    );
  }
  const system = SYSTEM_DIRS.map((d) => `${d}/${name}`).find(executable);
  if (system) return { path: system, source: 'system' };
  const fromPackage = packaged ? packagedPath(name) : undefined;
  if (fromPackage) return { path: fromPackage, source: 'packaged' };
  throw new VideoToolError(
    `no ${name} was found: install the system's (apt-get install ffmpeg), set ${name.toUpperCase()}_PATH, or run npm ci for the packaged build`,
    'no-tool',
  );
}

function packagedPath(name: ToolName): string | undefined {
  try {
    const { path } = createRequire(import.meta.url)(PACKAGES[name]) as { path: string };
    return executable(path) ? path : undefined;
  } catch {
    // No build for this platform, or the package is absent.
    return undefined;
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunLimits {
  /** Killed, with its children, after this many milliseconds. */
  readonly timeoutMs: number;
  /** Address-space limit, in bytes. */
  readonly memoryBytes: number;
}

/** Runs a tool locked down; resolves with its standard output, rejects with a `VideoToolError`. */
export function runTool(tool: VideoTool, args: readonly string[], limits: RunLimits): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('prlimit', [`--as=${limits.memoryBytes}`, '--', tool.path, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that the deadline kills whatever it started too.
      detached: true,
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      reject(new VideoToolError(`it took longer than ${limits.timeoutMs / 1000} s`, 'timeout'));
    }, limits.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new VideoToolError(`${tool.path} could not be started: ${err.message}`, 'no-tool'));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return;
      if (code === 0) resolve(Buffer.concat(stdout).toString());
      // Killed by a signal we did not send: the memory limit (or the kernel's OOM killer) stopped it.
      else
        reject(new VideoToolError(complaint(stderr, args) || `it stopped with ${signal ?? `code ${code}`}`, 'refused'));
    });
  });
}

/**
 * What the tool said last, for people: its last two lines, without the demuxer's "[mov,mp4,… @ 0x…]" prefix
 * or the paths of our temporary files ("moov atom not found; Invalid data found when processing input").
 */
function complaint(stderr: string, args: readonly string[]): string {
  const paths = args.filter((a) => a.startsWith('/'));
  const lines = stderr
    .split('\n')
    .map((line) => {
      let clean = line.replace(/^\[[^\]]*\]\s*/, '').trim();
      for (const p of paths) clean = clean.replaceAll(`${p}: `, '').replaceAll(p, 'the file');
      return clean;
    })
    .filter(Boolean);
  return [...new Set(lines.slice(-2))].join('; ');
}
