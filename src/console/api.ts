/**
 * The console's calls to the web tier (same origin). Every recognition is reported to the monitoring server
 * (its latency and the server's metrics from the answer's headers), as the workload generator does.
 */
import { parseServerTiming, parseState, type ServerState, type StageDurations } from '../shared/wire/answer-metrics.js';
import { MonitorReporter, reportOf } from '../monitor/reporter.js';

export const monitor = new MonitorReporter({ url: '/monitoring/reports', flushIntervalMs: 2000 });

export interface Face {
  box: [number, number, number, number];
  score: number;
  label?: string;
  similarity?: number;
  candidates?: { name: string; similarity: number }[];
}

export interface Recognition {
  name: string;
  label: string;
  image: { width: number; height: number };
  facesFound: number;
  faces: Face[];
  workerId: string;
  galleryVersion: number;
}

export type Answer<T> =
  | { ok: true; status: number; body: T; timing: StageDurations; state: ServerState; clientMs: number }
  | {
      ok: false;
      status: number;
      message: string;
      code?: string;
      timing: StageDurations;
      state: ServerState;
      clientMs: number;
    };

/** Any request to the web tier; a JSON error becomes `{ ok: false, message }`, a network failure too. */
export async function call<T>(path: string, init: RequestInit = {}, report = false): Promise<Answer<T>> {
  const at = Date.now();
  const started = performance.now();
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers });
  } catch (err) {
    if (report)
      monitor.add(
        reportOf({ source: 'console', at, clientMs: performance.now() - started, status: 0, header: () => null }),
      );
    return {
      ok: false,
      status: 0,
      message: `The web tier did not answer: ${(err as Error).message}`,
      timing: {},
      state: {},
      clientMs: 0,
    };
  }
  const text = await res.text();
  const clientMs = performance.now() - started;
  if (report)
    monitor.add(reportOf({ source: 'console', at, clientMs, status: res.status, header: (n) => res.headers.get(n) }));
  const timing = parseServerTiming(res.headers.get('Server-Timing'));
  const state = parseState(res.headers.get('Facefleet-State'));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.ok) return { ok: true, status: res.status, body: json as T, timing, state, clientMs };
  const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
  return {
    ok: false,
    status: res.status,
    message: error?.message ?? text.slice(0, 300),
    code: error?.code,
    timing,
    state,
    clientMs,
  };
}

const COLLECTION = 'facefleet-collection';

/** The collection this tab works in (People, Recognise, Camera, Videos); `default` unless one was chosen. */
export const collection = {
  get: (): string => sessionStorage.getItem(COLLECTION) ?? 'default',
  set: (name: string) => sessionStorage.setItem(COLLECTION, name),
  /** `?collection=` for the chosen collection, nothing for the default one (the course's plain POST /). */
  query: (): string => {
    const name = collection.get();
    return name === 'default' ? '' : `?collection=${encodeURIComponent(name)}`;
  },
};

/** POST / with one image: every face, boxed and matched against the chosen collection. */
export function recognise(image: Blob, fileName: string): Promise<Answer<Recognition>> {
  const form = new FormData();
  form.append('inputFile', image, fileName);
  return call<Recognition>(`/${collection.query()}`, { method: 'POST', body: form }, true);
}

const KEY = 'facefleet-api-key';

/** The enrollment API's key, kept for this browser tab's session only. */
export const apiKey = {
  get: (): string => sessionStorage.getItem(KEY) ?? '',
  set: (key: string) => (key ? sessionStorage.setItem(KEY, key) : sessionStorage.removeItem(KEY)),
};

export function withKey(init: RequestInit = {}): RequestInit {
  const key = apiKey.get();
  const headers = new Headers(init.headers);
  if (key) headers.set('X-API-Key', key);
  return { ...init, headers };
}
