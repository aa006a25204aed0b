/**
 * Scale-in under a backlog: after a burst has taken the fleet to its cap, a steady trickle that never leaves
 * the queue empty for the idle window no longer keeps the burst's fleet. The autoscaler stops the workers that
 * the local registry says hold nothing, down to what the trickle needs, and every request is answered.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../src/local/stack.js';
import { COURSE_IMAGES } from '../helpers/fixtures.js';
import { enrollCourseSubset, startTestStack, until } from '../helpers/stack.js';

describe('scale-in under a trickle', () => {
  let stack: LocalStack;
  // Read when a test runs, not when the file is collected: without the course data the suite is skipped whole.
  const recognise = async () => {
    const form = new FormData();
    form.append('inputFile', new Blob([readFileSync(`${COURSE_IMAGES}test_000.jpg`)]), 'test_000.jpg');
    const res = await fetch(`${stack.web.url}/`, { method: 'POST', body: form });
    return `${res.status} ${await res.text()}`;
  };
  const status = async () =>
    (await (await fetch(`${stack.web.url}/status`)).json()) as {
      workers: { starting: number; running: number; stopping: number };
      queue: { visible: number; inFlight: number };
    };

  beforeAll(async () => {
    stack = await startTestStack({ MIN_WORKERS: '0', MAX_WORKERS: '2', SCALE_IN_IDLE_SECONDS: '3' });
    await enrollCourseSubset(stack, 20);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('shrinks the fleet to what the trickle needs, stopping only idle workers, and loses no request', async () => {
    const started = Date.now();
    const timeline: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await status().catch(() => undefined);
        if (s) {
          const backlog = s.queue.visible + s.queue.inFlight;
          const second = ((Date.now() - started) / 1000).toFixed(1);
          timeline.push(`${second}s:${s.workers.running}r${s.workers.starting}s${s.workers.stopping}x/q${backlog}`);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();

    // The burst: 40 at once take the fleet to both workers.
    const burst = await Promise.all(Array.from({ length: 40 }, recognise));
    await until(async () => (await status()).workers.running === 2, 60_000, 'two running workers');

    // The trickle: one request every 300 ms for 15 s. The queue is never empty for the 3 s idle window.
    const answers: Promise<string>[] = [];
    const trickleStart = Date.now();
    let shrunkAt: number | undefined;
    while (Date.now() - trickleStart < 15_000) {
      answers.push(recognise());
      await new Promise((r) => setTimeout(r, 300));
      const s = await status();
      if (shrunkAt === undefined && s.workers.running === 1 && s.workers.starting === 0) shrunkAt = Date.now();
    }
    const trickle = await Promise.all(answers);
    sampling = false;
    await sampler;
    console.info(`scale-in under a trickle (running r, starting s, stopping x / backlog q): ${timeline.join(' ')}`);

    expect([...burst, ...trickle].every((a) => a === '200 test_000:Paul')).toBe(true);
    // It shrank while the trickle went on, not after it.
    expect(shrunkAt, timeline.join(' ')).toBeDefined();
    expect(shrunkAt! - trickleStart).toBeLessThan(12_000);
  });
});
