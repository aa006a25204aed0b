/**
 * Nothing is lost: a request whose result never comes is answered 504 (and its late result still cleared from
 * the queue), messages held by a worker that dies are answered by another one, and an emulator that dies is
 * started again with its state.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../src/shared/aws/clients.js';
import { isAlive } from '../../src/shared/fleet-registry.js';
import type { LocalStack } from '../../src/local/stack.js';
import { COURSE_IMAGES, COURSE_LABELS, courseLabels } from '../helpers/fixtures.js';
import { upload } from '../helpers/http.js';
import { enroll, queueDepth, startTestStack, until } from '../helpers/stack.js';

const image = (stem: string) => readFileSync(`${COURSE_IMAGES}${stem}.jpg`);

describe('a request whose result never comes', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startTestStack({ MIN_WORKERS: '0', MAX_WORKERS: '1', RESULT_TIMEOUT_SECONDS: '1' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('is answered 504 at its deadline, and its late result is still removed from the response queue', async () => {
    // Freeze the autoscaler so that no worker exists until the deadline has passed.
    stack.autoscaler.kill('SIGSTOP');
    const res = await upload(`${stack.web.url}/`, image('test_000'), 'test_000.jpg');
    stack.autoscaler.kill('SIGCONT');
    expect(res).toMatchObject({ status: 504, body: expect.stringMatching(/No result arrived within 1 seconds/) });

    const sqs = createSqsClient(stack.config);
    await until(
      async () => {
        const [req, resp] = await Promise.all([
          queueDepth(sqs, stack.queues.request),
          queueDepth(sqs, stack.queues.response),
        ]);
        return req.visible + req.inFlight + resp.visible + resp.inFlight === 0;
      },
      30_000,
      'the late result to be consumed',
    );
    sqs.destroy();
  });
});

describe('a worker killed while it holds messages', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    // The longest poll SQS allows: the worker is frozen inside a poll, and a 1 s poll could end (with nothing)
    // before the uploads arrive, leaving them visible; with 20 s that window is about 0.25 % instead of 5 %.
    // The price: the replacement worker takes up to 20 s to stop at the end.
    stack = await startTestStack({
      MIN_WORKERS: '1',
      MAX_WORKERS: '1',
      VISIBILITY_TIMEOUT_SECONDS: '3',
      WORKER_WAIT_SECONDS: '20',
    });
    await stack.fleet.whenRunning(1);
    await enroll(stack, ['--images', COURSE_IMAGES, '--labels', COURSE_LABELS]);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('loses nothing: its messages come back after the visibility timeout and another worker answers them', async () => {
    const sqs = createSqsClient(stack.config);
    const [victim] = await stack.fleet.list();
    const victimPid = stack.fleet.pid(victim!.id)!;
    // Freeze the worker in its long poll so that it takes the messages and cannot finish them; then kill it.
    stack.fleet.kill(victim!.id, 'SIGSTOP');
    const stems = ['test_000', 'test_001', 'test_002', 'test_003', 'test_004'];
    const answers = Promise.all(
      stems.map((s) => upload(`${stack.web.url}/`, image(s), `${s}.jpg`, { accept: 'application/json' })),
    );
    await until(
      async () => {
        const depth = await queueDepth(sqs, stack.queues.request);
        return depth.inFlight > 0 && depth.visible + depth.inFlight === stems.length;
      },
      10_000,
      'the frozen worker to hold messages',
    );
    stack.fleet.kill(victim!.id, 'SIGKILL');

    const results = (await answers).map((a) => JSON.parse(a.body));
    const labels = courseLabels();
    expect(results.filter((r) => r.error)).toEqual([]);
    results.forEach((r, i) => expect(r).toMatchObject({ name: stems[i], label: labels.get(stems[i]!) }));
    // The autoscaler noticed the dead worker and started another (which takes the lowest free name again).
    const workers = await stack.fleet.list();
    expect(workers).toHaveLength(1);
    expect(stack.fleet.pid(workers[0]!.id)).not.toBe(victimPid);
    expect(isAlive(victimPid)).toBe(false);
    sqs.destroy();
  });

  it('stops every worker process on shutdown', async () => {
    const pids = (await stack.fleet.list()).map((w) => stack.fleet.pid(w.id)!);
    await stack.stop();
    expect(await stack.fleet.list()).toEqual([]);
    // Gone, or a zombie: exited, waiting for the reaper of a parent (the autoscaler) that exited first.
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});

describe('an emulator killed under a running stack', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startTestStack({ MIN_WORKERS: '1', MAX_WORKERS: '1' });
    await enroll(stack, ['--images', COURSE_IMAGES, '--labels', COURSE_LABELS]);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('is started again on its port with what it kept, and the stack answers as before', async () => {
    const url = `${stack.web.url}/`;
    expect((await upload(url, image('test_000'), 'test_000.jpg')).body).toBe('test_000:Paul');
    const before = stack.emulator.pid;
    stack.emulator.kill('SIGKILL');
    await until(() => stack.emulator.pid !== before, 15_000, 'the emulator to be started again');
    // The gallery, the queues and the worker's polls survive: the next request is answered.
    await until(
      async () => (await upload(url, image('test_001'), 'test_001.jpg')).body === 'test_001:Emily',
      30_000,
      'an answer from the restarted emulator',
    );
  });

  it('costs requests in flight latency, not answers: 60 uploads across a kill -9 all get their labels', async () => {
    const url = `${stack.web.url}/`;
    const stems = [...courseLabels().keys()].slice(0, 60);
    const before = stack.emulator.pid;
    const answers = stems.map((stem) => upload(url, image(stem), `${stem}.jpg`));
    await new Promise((r) => setTimeout(r, 150));
    stack.emulator.kill('SIGKILL');
    const results = await Promise.all(answers);
    expect(stack.emulator.pid).not.toBe(before);
    expect(results.map((r) => `${r.status} ${r.body}`)).toEqual(
      stems.map((stem) => `200 ${stem}:${courseLabels().get(stem)}`),
    );
  }, 120_000);
});
