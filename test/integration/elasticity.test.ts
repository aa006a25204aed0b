/**
 * Elasticity on real parts: the autoscaler process, the local fleet of worker processes, fauxqs. A burst of
 * course requests takes the fleet from 0 to its maximum and back to 0; a worker killed mid-burst and the
 * autoscaler killed mid-burst (and restarted by the stack) lose nothing and never push the fleet over its cap.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/shared/fleet-registry.js';
import type { LocalStack } from '../../src/local/stack.js';
import { loadLabels, pickImages, runWorkload } from '../../scripts/lib/workload.js';
import { COURSE_IMAGES, COURSE_LABELS } from '../helpers/fixtures.js';
import { enroll, startTestStack, until } from '../helpers/stack.js';

const MAX_WORKERS = 3;

/** Every live app-tier process of this stack, found by its environment, registered or not. */
function workerProcesses(prefix: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('app-tier/main.ts')) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`RESOURCE_PREFIX=${prefix}`) && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

interface Sample {
  t: number;
  visible: number;
  inFlight: number;
  workers: number;
  processes: number;
}

describe.skipIf(process.platform !== 'linux')('scaling a burst from zero and back', () => {
  let stack: LocalStack;
  const samples: Sample[] = [];

  beforeAll(async () => {
    stack = await startTestStack({
      MIN_WORKERS: '0',
      MAX_WORKERS: String(MAX_WORKERS),
      SCALE_IN_IDLE_SECONDS: '2',
      VISIBILITY_TIMEOUT_SECONDS: '5',
    });
    await enroll(stack, ['--images', COURSE_IMAGES, '--labels', COURSE_LABELS]);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('goes 0 → max → 0, answers every request correctly, and survives a killed worker and a killed autoscaler', async () => {
    const prefix = stack.config.resources.prefix;
    const started = Date.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const res = await fetch(`${stack.web.url}/status`).catch(() => undefined);
        if (res?.ok) {
          const s = (await res.json()) as {
            queue: { visible: number; inFlight: number };
            workers: Record<string, number>;
          };
          samples.push({
            t: (Date.now() - started) / 1000,
            visible: s.queue.visible,
            inFlight: s.queue.inFlight,
            workers: s.workers['starting']! + s.workers['running']! + s.workers['stopping']!,
            processes: workerProcesses(prefix).length,
          });
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // Idle: no workers at all, and the status says so.
    await until(async () => samples.length > 0, 10_000, 'the first status');
    expect(samples[0]).toMatchObject({ workers: 0, processes: 0 });

    const autoscalerPid = stack.autoscaler.pid;
    let killedWorker = false;
    let killedAutoscaler = false;
    const result = await runWorkload({
      url: new URL(`${stack.web.url}/`),
      folder: COURSE_IMAGES,
      images: await pickImages(COURSE_IMAGES, 300, 'first', 1),
      concurrency: 100,
      freshConnection: true,
      labels: await loadLabels(COURSE_LABELS),
      onAnswer: (finished) => {
        if (finished === 60 && !killedWorker) {
          killedWorker = true;
          void stack.fleet.list().then((ws) => {
            const victim = ws.find((w) => w.state === 'running');
            if (victim) stack.fleet.kill(victim.id, 'SIGKILL');
          });
        }
        if (finished === 120 && !killedAutoscaler) {
          killedAutoscaler = true;
          stack.autoscaler.kill('SIGKILL');
        }
      },
    });
    expect(result).toMatchObject({ totalRequests: 300, correct: 300, failed: 0, wrong: 0 });
    expect([killedWorker, killedAutoscaler]).toEqual([true, true]);
    expect(stack.autoscaler.pid).not.toBe(autoscalerPid);

    // Back to zero within the idle window, the drain of a short poll, and a margin.
    await until(
      async () => workerProcesses(prefix).length === 0 && (await stack.fleet.list()).length === 0,
      30_000,
      'scale-in to 0',
    );
    sampling = false;
    await sampler;

    expect(Math.max(...samples.map((s) => s.workers))).toBe(MAX_WORKERS);
    // Never above the cap, counting every live worker process, registered or not (no orphans, no doubles).
    expect(Math.max(...samples.map((s) => s.processes))).toBeLessThanOrEqual(MAX_WORKERS);
  });
});
