/**
 * The workload generator's engine, shared by `npm run workload` and the benchmarks: pick images from a folder,
 * POST each to the web tier the way the course's official generator does, and check every answer against a
 * labels CSV. Command-line parsing and printing live in scripts/workload.ts.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { extname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { EXTENSION_NAMES, IMAGE_EXTENSIONS } from '../../src/shared/wire/image-formats.js';
import { reportOf, type MonitorReporter } from '../../src/monitor/reporter.js';
import { percentiles } from '../../src/shared/percentiles.js';
import { parseState, STATE_HEADER, type ServerState } from '../../src/shared/wire/answer-metrics.js';

/** A mistake in what the user asked for: printed as one line, never with a stack trace. */
export class UsageError extends Error {}

export type PickOrder = 'first' | 'random';

/**
 * `count` image file names from `folder` (default: as many as it holds), sorted by name: the first ones, or a
 * seeded random sample. When `count` exceeds the folder, it goes round the folder again (shuffled anew each
 * round for `random`).
 */
export async function pickImages(
  folder: string,
  count: number | undefined,
  order: PickOrder,
  seed: number,
): Promise<string[]> {
  let entries: string[];
  try {
    if (!(await stat(folder)).isDirectory()) throw new UsageError(`${folder} is not a folder`);
    entries = await readdir(folder);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read the image folder ${folder}: ${(err as Error).message}`);
  }
  const files = entries.filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  if (files.length === 0) throw new UsageError(`${folder} holds no ${EXTENSION_NAMES} files`);
  const wanted = count ?? files.length;
  const rng = xoroshiro128plus(seed);
  const picked: string[] = [];
  while (picked.length < wanted) {
    const round = [...files];
    if (order === 'random') {
      // Fisher–Yates with a seeded generator, so a run can be repeated exactly.
      for (let i = round.length - 1; i > 0; i--) {
        const j = uniformInt(rng, 0, i);
        [round[i], round[j]] = [round[j]!, round[i]!];
      }
    }
    picked.push(...round.slice(0, wanted - picked.length));
  }
  return picked;
}

/** The expected label per file stem, from a CSV with the columns `Image` (stem) and `Results` (label). */
export async function loadLabels(path: string): Promise<Map<string, string>> {
  let rows: Record<string, string>[];
  try {
    rows = parse(await readFile(path, 'utf8'), { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (err) {
    throw new UsageError(`cannot read the labels CSV ${path}: ${(err as Error).message}`);
  }
  const first = rows[0];
  if (!first || !('Image' in first) || !('Results' in first)) {
    throw new UsageError(
      `${path} must have the columns Image and Results (found: ${Object.keys(first ?? {}).join(', ') || 'none'})`,
    );
  }
  return new Map(rows.map((r) => [r['Image']!.replace(/\.[^.]+$/, ''), r['Results']!]));
}

/** Ends with a UsageError unless something accepts TCP connections at the URL's host and port. */
export async function assertReachable(url: URL, timeoutMs = 5000): Promise<void> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: url.hostname, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new UsageError(`cannot reach ${url.href}: no answer within ${timeoutMs / 1000} s`));
    });
    socket.once('error', (err) => reject(new UsageError(`cannot reach ${url.href}: ${err.message}`)));
  });
}

/**
 * The multipart body the course's Python client sends: one part named "inputFile" with the file name and no
 * part Content-Type. Written out here so our generator sends exactly those bytes, and encoded once per image
 * rather than per request, so that the generator takes as little as possible of the CPU it is measuring.
 */
export function encodeMultipart(fileName: string, bytes: Uint8Array): { body: Buffer; contentType: string } {
  const boundary = `facefleet${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
  const quoted = fileName.replace(/["\\\r\n]/g, '_');
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="inputFile"; filename="${quoted}"\r\n\r\n`;
  return {
    body: Buffer.concat([Buffer.from(head, 'utf8'), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  /** A header of the answer (the server's metrics ride on Server-Timing and Facefleet-State). */
  readonly header: (name: string) => string | undefined;
}

export interface Poster {
  post(body: Buffer, contentType: string): Promise<Answer>;
  close(): void;
}

/**
 * POSTs to one URL. `freshConnection` opens a new TCP connection per request, as the official client does;
 * otherwise connections are kept alive and reused. No timeout unless `timeoutMs` is given.
 */
export function createPoster(
  url: URL,
  options: { freshConnection: boolean; timeoutMs?: number; json?: boolean },
): Poster {
  const https = url.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  const agent = options.freshConnection
    ? false
    : https
      ? new HttpsAgent({ keepAlive: true })
      : new HttpAgent({ keepAlive: true });
  return {
    post: (body, contentType) =>
      new Promise((resolve, reject) => {
        const req = send(url, {
          method: 'POST',
          agent,
          headers: {
            'content-type': contentType,
            'content-length': body.length,
            ...(options.json ? { accept: 'application/json' } : {}),
          },
        });
        if (options.timeoutMs !== undefined) {
          req.setTimeout(options.timeoutMs, () =>
            req.destroy(new Error(`no answer within ${options.timeoutMs! / 1000} s`)),
          );
        }
        req.once('response', (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              header: (name) => {
                const value = res.headers[name.toLowerCase()];
                return Array.isArray(value) ? value.join(', ') : value;
              },
            }),
          );
          res.once('error', reject);
        });
        req.once('error', reject);
        req.end(body);
      }),
    close: () => {
      if (agent) agent.destroy();
    },
  };
}

export interface WorkloadOptions {
  readonly url: URL;
  readonly folder: string;
  readonly images: readonly string[];
  readonly concurrency: number;
  readonly freshConnection: boolean;
  readonly timeoutMs?: number;
  readonly labels?: ReadonlyMap<string, string>;
  /**
   * Ask for JSON answers and average the per-stage timings they carry (web tier and worker), to show where
   * a request's time goes.
   */
  readonly stageTimings?: boolean;
  /** Called after every answer, with the number finished so far. */
  readonly onAnswer?: (finished: number, outcome: Outcome) => void;
  /** Where each answer is reported (its latency and the server's metrics), for the monitoring server. */
  readonly monitor?: MonitorReporter;
  /** Told the server's state header of every answer (which web process and worker took it). */
  readonly onState?: (state: ServerState) => void;
}

export type Outcome = 'correct' | 'wrong' | 'unchecked' | 'failed';

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface WorkloadResult {
  readonly totalRequests: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly correct: number;
  readonly wrong: number;
  /** Answered, but with no label to check against. */
  readonly unchecked: number;
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: LatencySummary;
  /** Failure and wrong-answer reasons with how often each happened, most frequent first. */
  readonly problems: readonly { reason: string; count: number }[];
  /** Mean milliseconds per stage over the answers, with `stageTimings`. */
  readonly stagesMs?: Record<string, number>;
}

/** The JSON answer of the web tier (see src/web-tier/recognition/recognize-route.ts). */
interface JsonAnswer {
  name: string;
  label: string;
  timings: Record<string, number> & { worker?: Record<string, number> };
}

export async function runWorkload(o: WorkloadOptions): Promise<WorkloadResult> {
  const poster = createPoster(o.url, {
    freshConnection: o.freshConnection,
    timeoutMs: o.timeoutMs,
    json: o.stageTimings,
  });
  const stageSums = new Map<string, number>();
  const encoded = new Map<string, Promise<{ body: Buffer; contentType: string }>>();
  const encode = (file: string) => {
    let body = encoded.get(file);
    if (!body) {
      body = readFile(join(o.folder, file)).then((bytes) => encodeMultipart(file, bytes));
      encoded.set(file, body);
    }
    return body;
  };
  const counts: Record<Outcome, number> = { correct: 0, wrong: 0, unchecked: 0, failed: 0 };
  const problems = new Map<string, number>();
  const latencies: number[] = [];
  let next = 0;
  let finished = 0;
  const record = (outcome: Outcome, problem?: string) => {
    counts[outcome]++;
    if (problem) problems.set(problem, (problems.get(problem) ?? 0) + 1);
    o.onAnswer?.(++finished, outcome);
  };
  const lane = async () => {
    while (next < o.images.length) {
      const file = o.images[next++]!;
      const stem = file.replace(/\.[^.]+$/, '');
      const { body, contentType } = await encode(file);
      const sentAt = performance.now();
      const sentAtEpoch = Date.now();
      const report = (status: number, header: Answer['header'] = () => undefined) =>
        o.monitor?.add(
          reportOf({ source: 'workload', at: sentAtEpoch, clientMs: performance.now() - sentAt, status, header }),
        );
      try {
        const answer = await poster.post(body, contentType).catch((err: unknown) => {
          report(0);
          throw err;
        });
        report(answer.status, answer.header);
        o.onState?.(parseState(answer.header(STATE_HEADER)));
        latencies.push(performance.now() - sentAt);
        if (answer.status !== 200) {
          record('failed', `HTTP ${answer.status}: ${answer.body.split('\n')[0]!.slice(0, 160)}`);
          continue;
        }
        let text = answer.body.trim();
        if (o.stageTimings) {
          const { name, label, timings } = JSON.parse(answer.body) as JsonAnswer;
          text = `${name}:${label}`;
          const { worker = {}, ...web } = timings;
          for (const [stage, ms] of Object.entries({ ...web, ...worker })) {
            stageSums.set(stage, (stageSums.get(stage) ?? 0) + ms);
          }
        }
        const expected = o.labels?.get(stem);
        if (expected === undefined) record('unchecked');
        else if (text === `${stem}:${expected}`) record('correct');
        else record('wrong', `expected ${stem}:${expected}, got ${text.slice(0, 80)}`);
      } catch (err) {
        record('failed', (err as Error).message);
      }
    }
  };
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: Math.min(o.concurrency, o.images.length) }, lane));
  } finally {
    poster.close();
  }
  const durationSeconds = (performance.now() - started) / 1000;
  return {
    totalRequests: o.images.length,
    succeeded: o.images.length - counts.failed,
    failed: counts.failed,
    correct: counts.correct,
    wrong: counts.wrong,
    unchecked: counts.unchecked,
    durationSeconds,
    requestsPerSecond: o.images.length / durationSeconds,
    latencyMs: summarizeLatencies(latencies),
    problems: [...problems].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    ...(o.stageTimings && stageSums.size > 0
      ? {
          stagesMs: Object.fromEntries(
            [...stageSums].map(([stage, sum]) => [stage, Math.round((sum / latencies.length) * 100) / 100]),
          ),
        }
      : {}),
  };
}

/** Nearest-rank percentiles, in milliseconds rounded to 0.1 (0 when there are none). */
export function summarizeLatencies(samples: readonly number[]): LatencySummary {
  const p = percentiles(samples);
  return { p50: p.p50 ?? 0, p90: p.p90 ?? 0, p99: p.p99 ?? 0, max: p.max ?? 0 };
}

/** The summary in the official generator's words (its grader parses them), then latency and throughput. */
export function formatSummary(r: WorkloadResult): string {
  const lines = [
    '+++++ Test Result Statistics +++++',
    `Total number of requests: ${r.totalRequests}`,
    `Total number of requests completed successfully: ${r.succeeded}`,
    `Total number of failed requests: ${r.failed}`,
    `Total number of correct predictions : ${r.correct}`,
    `Total number of wrong predictions: ${r.wrong}`,
    ...(r.unchecked > 0 ? [`Answers with no label to check: ${r.unchecked}`] : []),
    `Total Test Duration: ${r.durationSeconds.toFixed(3)} (seconds)`,
    `Requests per second: ${r.requestsPerSecond.toFixed(1)}`,
    `Latency (ms): p50 ${r.latencyMs.p50}, p90 ${r.latencyMs.p90}, p99 ${r.latencyMs.p99}, max ${r.latencyMs.max}`,
    '++++++++++++++++++++++++++++++++++',
  ];
  if (r.problems.length > 0) {
    lines.push('Problems (most frequent first):');
    for (const p of r.problems.slice(0, 10)) lines.push(`  ${String(p.count).padStart(5)} × ${p.reason}`);
  }
  return lines.join('\n');
}
