/**
 * Monitoring: the history the monitoring server keeps from what clients reported (the workload generator,
 * this console): latency over time, per stage, per worker, network time and errors.
 */
import { call } from './api.js';
import { lineChart } from './charts.js';
import { fill, h, ms, table } from './dom.js';

interface P {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}
interface Overview {
  answers: number;
  errors: number;
  clientMs: P;
  serverMs: P;
  networkMs: P;
  truncated: boolean;
}
interface Timeline {
  since: number;
  until: number;
  buckets: {
    start: number;
    answers: number;
    errors: number;
    clientMs: P;
    serverMs: P;
    networkMs: P;
    workersRunning: number | null;
  }[];
  bucketMs: number;
}

const REFRESH_MS = 5000;

export function monitoringView(): { element: HTMLElement; stop(): void } {
  const minutes = h(
    'select',
    { id: 'monitoring-window' },
    ...[
      ['15', 'last 15 minutes'],
      ['60', 'last hour'],
      ['360', 'last 6 hours'],
      ['1440', 'last day'],
      ['10080', 'last week'],
    ].map(([v, t]) => h('option', { value: v! }, t!)),
  );
  const tiles = h('div', { class: 'tiles', id: 'monitoring-tiles' });
  const latency = lineChart('Latency seen by clients', 'ms', [
    { label: 'p50', stroke: '#1b7f3b' },
    { label: 'p90', stroke: '#e07b00' },
    { label: 'p99', stroke: '#b3261e' },
    { label: 'server p50', stroke: '#0b6bcb' },
    { label: 'network p50', stroke: '#888' },
  ]);
  const answers = lineChart('Answers', 'per bucket', [
    { label: 'answers', stroke: '#0b6bcb' },
    { label: 'errors', stroke: '#b3261e' },
    { label: 'workers running (peak)', stroke: '#1b7f3b' },
  ]);
  const stages = h('section', { id: 'monitoring-stages' });
  const workers = h('section', { id: 'monitoring-workers' });
  const webProcesses = h('section', { id: 'monitoring-web' });
  const errors = h('section', { id: 'monitoring-errors' });
  const note = h('p', { class: 'muted', id: 'monitoring-note' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const refresh = async () => {
    clearTimeout(timer);
    const q = `minutes=${minutes.value}`;
    const [o, t, s, w, e, web] = await Promise.all([
      call<Overview>(`/monitoring/api/overview?${q}`),
      call<Timeline>(`/monitoring/api/timeline?${q}`),
      call<{ stages: Record<string, P> }>(`/monitoring/api/stages?${q}`),
      call<{ workers: { worker: string; answers: number; errors: number; serverMs: P }[] }>(
        `/monitoring/api/workers?${q}`,
      ),
      call<{ errors: { status: number; code: string | null; count: number }[] }>(`/monitoring/api/errors?${q}`),
      call<{ web: { web: string; answers: number; errors: number; serverMs: P }[] }>(`/monitoring/api/web?${q}`),
    ]);
    if (stopped) return;
    if (!o.ok) {
      fill(note, h('span', { class: 'error' }, o.message));
    } else {
      const v = o.body;
      fill(
        note,
        v.answers === 0
          ? 'Nothing was reported in this window: run the workload generator, or recognise a photo here.'
          : v.truncated
            ? 'Computed from the newest 200 000 answers of the window.'
            : '',
      );
      fill(
        tiles,
        ...[
          ['answers', String(v.answers)],
          ['errors', String(v.errors)],
          ['client p50', ms(v.clientMs.p50)],
          ['client p99', ms(v.clientMs.p99)],
          ['server p50', ms(v.serverMs.p50)],
          ['network p50', ms(v.networkMs.p50)],
        ].map(([title, value]) => h('div', { class: 'tile' }, title!, h('b', {}, value!))),
      );
    }
    if (t.ok) {
      const b = t.body.buckets;
      const times = b.map((x) => x.start);
      const range = { since: t.body.since, until: t.body.until };
      latency.set(
        times,
        [
          b.map((x) => x.clientMs.p50),
          b.map((x) => x.clientMs.p90),
          b.map((x) => x.clientMs.p99),
          b.map((x) => x.serverMs.p50),
          b.map((x) => x.networkMs.p50),
        ],
        range,
      );
      answers.set(times, [b.map((x) => x.answers), b.map((x) => x.errors), b.map((x) => x.workersRunning)], range);
    }
    const pRow = (p: P) => [ms(p.p50), ms(p.p90), ms(p.p99), ms(p.max)];
    if (s.ok)
      fill(
        stages,
        h('h3', {}, 'Per stage'),
        table(
          ['stage', 'answers', 'p50', 'p90', 'p99', 'max'],
          Object.entries(s.body.stages).map(([stage, p]) => [stage, p.count, ...pRow(p)]),
          [false, true, true, true, true, true],
        ),
      );
    // Answers per process that took them: each worker, each web process.
    const perProcess = (kind: string, rows: { id: string; answers: number; errors: number; serverMs: P }[]) => [
      h('h3', {}, `Per ${kind} (server time)`),
      table(
        [kind, 'answers', 'errors', 'p50', 'p90', 'p99', 'max'],
        rows.map((x) => [x.id, x.answers, x.errors, ...pRow(x.serverMs)]),
        [false, true, true, true, true, true, true],
      ),
    ];
    if (w.ok)
      fill(
        workers,
        ...perProcess(
          'worker',
          w.body.workers.map((x) => ({ ...x, id: x.worker })),
        ),
      );
    if (web.ok)
      fill(
        webProcesses,
        ...perProcess(
          'web process',
          web.body.web.map((x) => ({ ...x, id: x.web })),
        ),
      );
    if (e.ok)
      fill(
        errors,
        h('h3', {}, 'Errors'),
        e.body.errors.length === 0
          ? h('p', { class: 'muted' }, 'None.')
          : table(
              ['status', 'code', 'count'],
              e.body.errors.map((x) => [x.status === 0 ? 'no answer' : x.status, x.code ?? '', x.count]),
              [true, false, true],
            ),
      );
    timer = setTimeout(() => void refresh(), REFRESH_MS);
  };
  minutes.addEventListener('change', () => void refresh());
  void refresh();
  const element = h(
    'div',
    {},
    h('h2', {}, 'Monitoring'),
    h('div', { class: 'row' }, h('label', { for: 'monitoring-window' }, 'Window'), minutes),
    note,
    tiles,
    h('div', { class: 'charts' }, latency.element, answers.element),
    stages,
    workers,
    webProcesses,
    errors,
  );
  return {
    element,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
