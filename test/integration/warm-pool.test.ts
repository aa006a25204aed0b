/**
 * Elastic without flapping (issue 27), on the real local fleet: a warm worker waits beside the running ones,
 * taking no messages and spending no CPU to speak of; a request after a pause wakes it instead of cold-starting a
 * worker, and the pool is filled again; a trickle keeps one worker running, never 0, and its requests are all
 * answered; when the trickle stops, the fleet goes back to 0 running.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../src/local/stack.js';
import { parseState, STATE_HEADER } from '../../src/shared/wire/answer-metrics.js';
import { COURSE_IMAGES, firstCourseLabels } from '../helpers/fixtures.js';
import { enrollCourseSubset, startTestStack, until } from '../helpers/stack.js';

const ENROLLED = 20;
const labels = firstCourseLabels(ENROLLED);

interface Status {
  workers: { starting: number; running: number; stopping: number; warm?: number };
  fleet: { id: string; state: string }[];
}

describe('a warm pool and a trickle', () => {
  let stack: LocalStack;
  const status = async () => (await (await fetch(`${stack.web.url}/status`)).json()) as Status;
  const recognise = async (i: number) => {
    const [stem, label] = labels[i % labels.length]!;
    const form = new FormData();
    form.append('inputFile', new Blob([readFileSync(`${COURSE_IMAGES}${stem}.jpg`)]), `${stem}.jpg`);
    const started = performance.now();
    const res = await fetch(`${stack.web.url}/`, { method: 'POST', body: form });
    const body = await res.text();
    return {
      ok: res.status === 200 && body === `${stem}:${label}`,
      ms: performance.now() - started,
      worker: parseState(res.headers.get(STATE_HEADER)).worker,
    };
  };

  beforeAll(async () => {
    stack = await startTestStack({
      MIN_WORKERS: '0',
      MAX_WORKERS: '2',
      WARM_WORKERS: '1',
      SCALE_IN_IDLE_SECONDS: '2',
    });
    await enrollCourseSubset(stack, ENROLLED);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('keeps a warm worker that takes no messages and spends no CPU to speak of', async () => {
    await until(async () => (await status()).workers.warm === 1, 60_000, 'a warm worker');
    await until(async () => (await status()).workers.running === 0, 60_000, 'no running worker');
    const warm = (await status()).fleet.find((w) => w.state === 'warm')!;
    const pid = stack.fleet.pid(warm.id)!;
    const cpu = () => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) * 10;
    };
    const before = cpu();
    await new Promise((r) => setTimeout(r, 5000));
    // Its timers (liveness every second, the gallery's refresh) cost milliseconds; a loop would cost seconds.
    expect(cpu() - before).toBeLessThan(500);
  });

  it('answers a request after a pause with the warm worker, and fills the pool again', async () => {
    const warm = (await status()).fleet.find((w) => w.state === 'warm')!;
    const answer = await recognise(0);
    expect(answer.ok).toBe(true);
    expect(answer.worker).toBe(warm.id);
    await until(
      async () => (await status()).fleet.some((w) => w.state === 'warm' && w.id !== warm.id),
      60_000,
      'a new warm worker',
    );
  });

  it('keeps one worker running under a trickle, answers all of it, and goes back to 0 after it', async () => {
    const samples: Status['workers'][] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await status().catch(() => undefined);
        if (s) samples.push(s.workers);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    // Two requests a second for 10 s, each waiting milliseconds in the queue: the queue looks empty between.
    const answers = [];
    for (let i = 0; i < 20; i++) {
      const started = Date.now();
      answers.push(await recognise(i));
      await new Promise((r) => setTimeout(r, Math.max(0, 500 - (Date.now() - started))));
    }
    sampling = false;
    await sampler;
    expect(answers.every((a) => a.ok)).toBe(true);
    // From its third request on (the first woke a worker), never a sample at 0 running: no flapping.
    const during = samples.slice(8);
    expect(during.length).toBeGreaterThan(10);
    expect(during.filter((w) => w.running === 0)).toEqual([]);
    // The trickle stopped: back to 0 running after the idle window, the warm worker kept.
    await until(async () => (await status()).workers.running === 0, 30_000, '0 running after the trickle');
    expect((await status()).workers.warm).toBe(1);
  });
});
