/**
 * The server's metrics that ride on every answer of the web tier (the EXOGEM way: the client carries them to
 * the monitor, so monitoring costs the server a header, not a database write):
 *
 *   Server-Timing: validate;dur=0.4, upload;dur=3.1, enqueue;dur=2.2, queue;dur=5, download;dur=1.3, …, total;dur=61
 *   Facefleet-State: queue-visible=3, queue-in-flight=5, workers-starting=1, workers-running=2, worker="local-worker-1", gallery=7, web="w1-k3x9qa7b"
 *
 * Server-Timing is the W3C header that browsers' devtools show; the state header is an RFC 8941 dictionary.
 * Both are formatted and parsed here, so the web tier, the workload generator and the console agree.
 */

/** The web tier's stages, in the order they happen. `wait` is the time from queued to answered. */
export const WEB_STAGES = ['validate', 'upload', 'enqueue', 'wait'] as const;
/**
 * The worker's stages, as its response message reports them (`<stage>Ms`). A video adds `probe` (its header),
 * `frames` (ffmpeg) and `records` (the students table); its decode…match are the sums over its frames.
 */
export const WORKER_STAGES = [
  'queue',
  'download',
  'probe',
  'frames',
  'decode',
  'detect',
  'landmarks',
  'embed',
  'match',
  'records',
  'store',
] as const;
/** The worker's stages that only a video has. */
export const VIDEO_ONLY_STAGES: readonly (typeof WORKER_STAGES)[number][] = ['probe', 'frames', 'records'];
export const STAGES = [...WEB_STAGES, ...WORKER_STAGES, 'total'] as const;
export type Stage = (typeof STAGES)[number];

export const SERVER_TIMING_HEADER = 'Server-Timing';
export const STATE_HEADER = 'Facefleet-State';
/** On an error answer: its code from the error catalogue, so that a plain-text client can tell errors apart. */
export const ERROR_CODE_HEADER = 'Facefleet-Error-Code';

/** Stage durations in milliseconds; a stage that did not happen is absent. */
export type StageDurations = Partial<Record<Stage, number>>;

const STAGE_NAMES = new Set<string>(STAGES);

export function formatServerTiming(durations: StageDurations): string {
  return STAGES.filter((s) => durations[s] !== undefined)
    .map((s) => `${s};dur=${round(durations[s]!)}`)
    .join(', ');
}

/**
 * The stages of a Server-Timing header (ours, or any other: unknown metrics and malformed entries are
 * skipped, as the W3C spec asks of user agents).
 */
export function parseServerTiming(header: string | null | undefined): StageDurations {
  const out: StageDurations = {};
  for (const entry of (header ?? '').split(',')) {
    const [name, ...params] = entry.split(';').map((p) => p.trim());
    if (!name || !STAGE_NAMES.has(name) || out[name as Stage] !== undefined) continue;
    for (const param of params) {
      const [key, value] = param.split('=').map((p) => p.trim());
      if (key?.toLowerCase() !== 'dur' || value === undefined) continue;
      const ms = Number(value);
      if (Number.isFinite(ms) && ms >= 0) out[name as Stage] = ms;
      break;
    }
  }
  return out;
}

/** The server's state when it answered. Each field is absent when the server did not know it. */
export interface ServerState {
  /** Request-queue messages waiting, and taken by a worker but not yet answered (the autoscaler's last read). */
  readonly queueVisible?: number;
  readonly queueInFlight?: number;
  readonly workersStarting?: number;
  readonly workersRunning?: number;
  /** The worker that answered this request. */
  readonly worker?: string;
  /** The gallery version that request was matched against. */
  readonly gallery?: number;
  /** The collection that request was matched against. */
  readonly collection?: string;
  /** The web process that took the request (`w1-k3x9qa7b`). */
  readonly web?: string;
  /** How old the fleet figures are, in milliseconds (the autoscaler decides about once a second). */
  readonly stateAgeMs?: number;
}

const STATE_KEYS = {
  queueVisible: 'queue-visible',
  queueInFlight: 'queue-in-flight',
  workersStarting: 'workers-starting',
  workersRunning: 'workers-running',
  worker: 'worker',
  gallery: 'gallery',
  collection: 'collection',
  web: 'web',
  stateAgeMs: 'state-age-ms',
} as const satisfies Record<keyof ServerState, string>;

export function formatState(state: ServerState): string {
  const parts: string[] = [];
  for (const [field, key] of Object.entries(STATE_KEYS) as [keyof ServerState, string][]) {
    const value = state[field];
    if (value === undefined) continue;
    parts.push(`${key}=${typeof value === 'number' ? Math.round(value) : sfString(value)}`);
  }
  return parts.join(', ');
}

export function parseState(header: string | null | undefined): ServerState {
  const byKey = new Map<string, keyof ServerState>(
    Object.entries(STATE_KEYS).map(([field, key]) => [key, field as keyof ServerState]),
  );
  const out: Record<string, string | number> = {};
  // An RFC 8941 dictionary whose values are integers or strings; a quoted string may hold commas.
  for (const match of (header ?? '').matchAll(/([a-z][a-z0-9-]*)=("(?:[^"\\]|\\.)*"|-?\d+)/g)) {
    const field = byKey.get(match[1]!);
    if (!field) continue;
    const raw = match[2]!;
    out[field] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : Number(raw);
  }
  return out as ServerState;
}

/** An RFC 8941 string: printable ASCII, `"` and `\` escaped; anything else is replaced by `?`. */
function sfString(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
