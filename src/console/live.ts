/**
 * Live: the request queue, the workers by state, recognitions per second and their latency, charted every
 * second from the web tier's GET /live, so that a burst is watched scaling the fleet up and back to zero.
 */
import { call } from './api.js';
import { lineChart } from './charts.js';
import { fill, h, ms } from './dom.js';

interface Live {
  at: number;
  recognitions: {
    answersPerSecond: number;
    errorsPerSecond: number;
    latencyMs: { p50: number | null; p90: number | null; p99: number | null };
  };
  waiting: number;
  /** The web processes whose figures are summed (this machine's). */
  webProcesses?: number;
  queue: { visible: number; inFlight: number } | null;
  workers: { starting: number; running: number; stopping: number; warm?: number } | null;
  desired: number | null;
  maxWorkers: number | null;
}

const POLL_MS = 1000;

export function liveView(): { element: HTMLElement; stop(): void } {
  const queue = lineChart('Request queue', 'messages', [
    { label: 'waiting', stroke: '#0b6bcb' },
    { label: 'in flight', stroke: '#e07b00' },
  ]);
  const workers = lineChart('Workers', 'workers', [
    { label: 'running', stroke: '#1b7f3b' },
    { label: 'starting', stroke: '#e07b00' },
    { label: 'stopping', stroke: '#b3261e' },
    { label: 'desired', stroke: '#888' },
  ]);
  const rate = lineChart('Recognitions', 'per second', [
    { label: 'answers', stroke: '#0b6bcb' },
    { label: 'errors', stroke: '#b3261e' },
  ]);
  const latency = lineChart('Latency (last 5 s)', 'ms', [
    { label: 'p50', stroke: '#1b7f3b' },
    { label: 'p90', stroke: '#e07b00' },
    { label: 'p99', stroke: '#b3261e' },
  ]);
  const tiles = h('div', { class: 'tiles' });
  const note = h('p', { class: 'muted', id: 'live-note' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const tile = (id: string, title: string, value: string) => h('div', { class: 'tile', id }, title, h('b', {}, value));
  const poll = async () => {
    const answer = await call<Live>('/live');
    if (stopped) return;
    if (answer.ok) {
      const l = answer.body;
      queue.push(l.at, [l.queue?.visible ?? null, l.queue?.inFlight ?? null]);
      workers.push(l.at, [
        l.workers?.running ?? null,
        l.workers?.starting ?? null,
        l.workers?.stopping ?? null,
        l.desired,
      ]);
      rate.push(l.at, [l.recognitions.answersPerSecond, l.recognitions.errorsPerSecond]);
      latency.push(l.at, [l.recognitions.latencyMs.p50, l.recognitions.latencyMs.p90, l.recognitions.latencyMs.p99]);
      fill(
        tiles,
        tile('live-queue', 'queued', l.queue ? String(l.queue.visible + l.queue.inFlight) : '—'),
        tile('live-workers', 'workers running', l.workers ? `${l.workers.running} / ${l.maxWorkers ?? '?'}` : '—'),
        tile('live-warm', 'warm, waiting', l.workers ? String(l.workers.warm ?? 0) : '—'),
        tile('live-rate', 'answers per second', l.recognitions.answersPerSecond.toFixed(1)),
        tile('live-p50', 'latency p50', ms(l.recognitions.latencyMs.p50)),
        tile('live-waiting', 'waiting for a worker', String(l.waiting)),
        tile('live-web', 'web processes', String(l.webProcesses ?? 1)),
      );
      fill(note, l.workers ? '' : 'The autoscaler has not reported yet: the fleet is unknown.');
    } else {
      fill(note, h('span', { class: 'error' }, answer.message));
    }
    timer = setTimeout(() => void poll(), POLL_MS);
  };
  void poll();
  const element = h(
    'div',
    {},
    h('h2', {}, 'Live'),
    tiles,
    note,
    h('div', { class: 'charts' }, queue.element, workers.element, rate.element, latency.element),
  );
  return {
    element,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
