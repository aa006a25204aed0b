/**
 * The server's metrics on every answer and on every process: Server-Timing and the state header on successes
 * and on each kind of refusal (those Express answers and those Node writes to the socket itself), and GET
 * /metrics of the web tier, the autoscaler and each worker, read by a Prometheus text parser.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../src/local/stack.js';
import {
  parseServerTiming,
  parseState,
  VIDEO_ONLY_STAGES,
  WEB_STAGES,
  WORKER_STAGES,
} from '../../src/shared/wire/answer-metrics.js';

/** The worker's stages of an image (a video has three more). */
const IMAGE_STAGES = WORKER_STAGES.filter((s) => !VIDEO_ONLY_STAGES.includes(s));
import { COURSE_IMAGES } from '../helpers/fixtures.js';
import { scrape, total } from '../helpers/prometheus.js';
import { enrollCourseSubset, startTestStack, until } from '../helpers/stack.js';

const API_KEY = 'metrics-test-key-0123456789';
/** The course images enrolled: enough people for a real match, few enough to enroll in seconds. */
const ENROLLED = 24;

describe('metrics on every answer and every process', () => {
  let stack: LocalStack;
  let base: string;
  const course = (n: number) => readFileSync(`${COURSE_IMAGES}test_${String(n).padStart(3, '0')}.jpg`);

  const post = async (path: string, bytes: Uint8Array | undefined, file = 'x.jpg', headers = {}) => {
    const form = new FormData();
    if (bytes) form.append(path === '/' ? 'inputFile' : 'images', new Blob([bytes]), file);
    return fetch(`${base}${path}`, { method: 'POST', body: form, headers });
  };
  const metricsOf = async (res: Response) => {
    await res.arrayBuffer();
    return {
      status: res.status,
      timing: parseServerTiming(res.headers.get('server-timing')),
      state: parseState(res.headers.get('facefleet-state')),
      timingAllowOrigin: res.headers.get('timing-allow-origin'),
    };
  };

  beforeAll(async () => {
    stack = await startTestStack({ API_KEY, HEADERS_TIMEOUT_SECONDS: '1' });
    base = stack.web.url;
    await enrollCourseSubset(stack, ENROLLED);
    await stack.fleet.whenRunning(2);
    // The web tier reads the autoscaler's status once a second.
    await until(
      async () => (await metricsOf(await fetch(`${base}/healthz`))).state.workersRunning === 2,
      10_000,
      'the fleet state',
    );
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('a recognition carries every stage, the worker that answered and the fleet it saw', async () => {
    const res = await post('/', course(0), 'test_000.jpg');
    const body = await res.clone().text();
    const m = await metricsOf(res);
    expect(m.status).toBe(200);
    expect(body).toBe('test_000:Paul');
    expect(Object.keys(m.timing).sort()).toEqual([...WEB_STAGES, ...IMAGE_STAGES, 'total'].sort());
    // The worker's stages happen while the web tier waits; the whole answer takes longer than its parts.
    const t = m.timing as Required<typeof m.timing>;
    expect(t.wait).toBeGreaterThanOrEqual(t.detect + t.embed);
    expect(t.total).toBeGreaterThanOrEqual(t.validate + t.upload + t.enqueue + t.wait - 1);
    expect(m.state).toMatchObject({ workersRunning: 2, workersStarting: 0, gallery: expect.any(Number) });
    expect(m.state.worker).toMatch(/^local-worker-[12]$/);
    expect(m.state.queueVisible).toBeGreaterThanOrEqual(0);
    expect(m.state.stateAgeMs).toBeLessThan(15_000);
    expect(m.timingAllowOrigin).toBe('*');
  });

  it('the state header names the same worker and gallery as the JSON answer', async () => {
    const res = await post('/', course(1), 'test_001.jpg', { Accept: 'application/json' });
    const json = (await res.clone().json()) as { workerId: string; galleryVersion: number };
    const m = await metricsOf(res);
    expect(m.state.worker).toBe(json.workerId);
    expect(m.state.gallery).toBe(json.galleryVersion);
  });

  it.each([
    ['404, a path that does not exist', () => fetch(`${base}/nowhere`), 404, []],
    ['405, GET /', () => fetch(`${base}/`), 405, []],
    ['400, an upload without the file', () => post('/', undefined), 400, []],
    [
      '415, a file that is not an image',
      () => post('/', new TextEncoder().encode('hello, world'), 'a.jpg'),
      415,
      ['validate'],
    ],
    ['401, enrollment without the key', () => post('/people/Ana/faces', course(0)), 401, []],
  ] as const)('answers %s with the headers too', async (_what, send, status, stages) => {
    const m = await metricsOf(await send());
    expect(m.status).toBe(status);
    expect(m.timing.total).toBeGreaterThanOrEqual(0);
    for (const stage of stages) expect(m.timing[stage]).toBeGreaterThanOrEqual(0);
    expect(m.state.workersRunning).toBe(2);
    expect(m.timingAllowOrigin).toBe('*');
  });

  it('a refusal from the worker (no face) carries the worker’s stages and its id', async () => {
    const blank = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#777' } })
      .jpeg()
      .toBuffer();
    const m = await metricsOf(await post('/', blank, 'wall.jpg'));
    expect(m.status).toBe(422);
    expect(m.timing).toMatchObject({
      download: expect.any(Number),
      detect: expect.any(Number),
      wait: expect.any(Number),
    });
    expect(m.state.worker).toMatch(/^local-worker-[12]$/);
  });

  it('a client too slow to send its headers gets 408 with the headers, written by Node itself', async () => {
    const socket = connect(stack.web.port, '127.0.0.1');
    socket.write('POST / HTTP/1.1\r\nHost: localhost\r\n');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    await new Promise((resolve) => socket.once('close', resolve));
    const head = received.split('\r\n\r\n')[0]!;
    expect(head).toMatch(/^HTTP\/1\.1 408/);
    const timing = parseServerTiming(/^Server-Timing: (.*)$/im.exec(head)?.[1]);
    expect(timing.total).toBeGreaterThanOrEqual(900);
    expect(parseState(/^Facefleet-State: (.*)$/im.exec(head)?.[1]).workersRunning).toBe(2);
  });

  it('GET /metrics on the web tier counts answers by route, status and code, and times each stage', async () => {
    const m = await scrape(`${base}/metrics`);
    expect(total(m, 'facefleet_http_requests_total', { route: '/', status: '200', code: 'OK' })).toBeGreaterThanOrEqual(
      2,
    );
    expect(total(m, 'facefleet_http_requests_total', { status: '415', code: 'NOT_AN_IMAGE' })).toBe(1);
    expect(total(m, 'facefleet_http_requests_total', { route: 'unmatched', status: '404', code: 'NOT_FOUND' })).toBe(1);
    expect(m.get('facefleet_stage_duration_seconds')!.type).toBe('HISTOGRAM');
    const stages = m.get('facefleet_stage_duration_seconds_count')!.metrics.map((s) => s.labels?.['stage']);
    expect(stages.sort()).toEqual([...WEB_STAGES, ...IMAGE_STAGES, 'total'].sort());
    expect(total(m, 'facefleet_stage_duration_seconds_count', { stage: 'detect' })).toBeGreaterThanOrEqual(3);
    expect(total(m, 'facefleet_workers', { state: 'running' })).toBe(2);
    expect(total(m, 'facefleet_request_queue_messages', { state: 'visible' })).toBeGreaterThanOrEqual(0);
    expect(total(m, 'facefleet_gallery_version')).toBeGreaterThanOrEqual(1);
    expect(total(m, 'facefleet_requests_waiting')).toBe(0);
    expect(m.has('process_cpu_user_seconds_total')).toBe(true);
    expect(m.has('nodejs_eventloop_lag_seconds')).toBe(true);
    // Low cardinality: no file name or person's name ever becomes a label.
    const labelValues = [...m.values()].flatMap((f) => f.metrics.flatMap((s) => Object.values(s.labels ?? {})));
    expect(labelValues.filter((v) => /test_0|Paul|wall|nowhere/.test(v))).toEqual([]);
  });

  it('GET /metrics on the autoscaler has its decisions and the fleet; GET /targets lists each worker’s metrics', async () => {
    const autoscaler = stack.autoscaler.statusUrl!.replace(/\/status$/, '');
    const m = await scrape(`${autoscaler}/metrics`);
    expect(total(m, 'facefleet_autoscaler_decisions_total')).toBeGreaterThan(0);
    expect(total(m, 'facefleet_autoscaler_workers', { state: 'running' })).toBe(2);
    expect(total(m, 'facefleet_autoscaler_desired_workers')).toBe(2);
    expect(total(m, 'facefleet_autoscaler_workers_launched_total')).toBeGreaterThanOrEqual(2);

    const targets = (await (await fetch(`${autoscaler}/targets`)).json()) as {
      targets: string[];
      labels: Record<string, string>;
    }[];
    expect(targets.map((t) => t.labels['worker']).sort()).toEqual(['local-worker-1', 'local-worker-2']);
    let answered = 0;
    for (const t of targets) {
      const w = await scrape(`http://${t.targets[0]}${t.labels['__metrics_path__']}`);
      expect(total(w, 'facefleet_worker_ready')).toBe(1);
      expect(total(w, 'facefleet_worker_messages_held')).toBe(0);
      expect(total(w, 'facefleet_worker_gallery_faces')).toBeGreaterThan(0);
      answered += total(w, 'facefleet_worker_messages_total', { outcome: 'answered' });
      expect(total(w, 'facefleet_worker_messages_total', { outcome: 'malformed' })).toBe(0);
    }
    // Two recognitions answered, one refused (no face); the enrollment ran in the command, not on workers.
    expect(answered).toBe(2);
  });
});
