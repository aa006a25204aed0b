/**
 * Several web processes on one port (WEB_PROCESSES=2), each with a reply queue of its own: every answer reaches
 * its own request whichever process took it, both take requests, a process killed outright is replaced and its
 * queue reaped, a reply to a queue that is gone is dropped (its label still stored), and a clean stop deletes
 * every reply queue.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListQueuesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, createSqsClient } from '../../src/shared/aws/clients.js';
import { parseState, STATE_HEADER } from '../../src/shared/wire/answer-metrics.js';
import type { LocalStack } from '../../src/local/stack.js';
import {
  encodeFileNameMetadata,
  encodeRequest,
  FILE_NAME_METADATA,
  MESSAGE_VERSION,
} from '../../src/shared/wire/messages.js';
import { replyQueueName, replyQueuePrefix } from '../../src/shared/wire/reply-queues.js';
import { COURSE_IMAGES, firstCourseLabels } from '../helpers/fixtures.js';
import { enrollCourseSubset, queueDepth, startTestStack, until } from '../helpers/stack.js';

const ENROLLED = 40;
const labels = firstCourseLabels(ENROLLED);
const image = (stem: string) => readFileSync(`${COURSE_IMAGES}${stem}.jpg`);

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly web: string | undefined;
}

/** One course-style upload on a connection of its own, so that the kernel may hand it to either process. */
async function recognise(url: string, stem: string): Promise<Answer> {
  const form = new FormData();
  form.append('inputFile', new Blob([image(stem)]), `${stem}.jpg`);
  const res = await fetch(`${url}/`, { method: 'POST', body: form, headers: { Connection: 'close' } });
  return { status: res.status, body: await res.text(), web: parseState(res.headers.get(STATE_HEADER)).web };
}

interface WebStatus {
  readonly answeredBy: string;
  readonly processes: readonly { id: string; pid: number; replyQueue: string; metricsUrl?: string }[];
}

async function webStatus(url: string): Promise<WebStatus> {
  const res = await fetch(`${url}/status`, { headers: { Connection: 'close' } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { web: WebStatus }).web;
}

describe('several web processes on one port', () => {
  let stack: LocalStack;
  let url: string;
  let sqs: ReturnType<typeof createSqsClient>;
  let s3: ReturnType<typeof createS3Client>;

  const replyQueues = async () => {
    const { QueueUrls = [] } = await sqs.send(
      new ListQueuesCommand({ QueueNamePrefix: replyQueuePrefix(stack.config.resources.prefix) }),
    );
    return QueueUrls.map((u) => u.slice(u.lastIndexOf('/') + 1)).sort();
  };

  beforeAll(async () => {
    stack = await startTestStack({
      WEB_PROCESSES: '2',
      REPLY_QUEUE_HEARTBEAT_SECONDS: '1',
      REPLY_QUEUE_IDLE_SECONDS: '4',
    });
    url = stack.web.url;
    sqs = createSqsClient(stack.config);
    s3 = createS3Client(stack.config);
    await stack.fleet.whenRunning(2);
    await enrollCourseSubset(stack, ENROLLED);
    await until(async () => (await recognise(url, labels[0]![0])).status === 200, 30_000, 'the gallery');
  });

  afterAll(async () => {
    await stack?.stop();
    sqs?.destroy();
    s3?.destroy();
  });

  it('answers every request with its own label, from both processes, each on its own reply queue', async () => {
    const processes = (await webStatus(url)).processes;
    expect(processes).toHaveLength(2);
    expect(new Set(processes.map((p) => p.pid)).size).toBe(2);
    expect(await replyQueues()).toEqual(processes.map((p) => p.replyQueue).sort());
    // 8 people, 40 images, each sent twice at 20 at a time: a result routed to the wrong request would carry
    // another stem, or another person's name.
    const work = [...labels, ...labels];
    const answers: (Answer & { stem: string; expected: string })[] = [];
    for (let i = 0; i < work.length; i += 20) {
      const batch = work.slice(i, i + 20);
      answers.push(
        ...(await Promise.all(
          batch.map(async ([stem, expected]) => ({ ...(await recognise(url, stem)), stem, expected })),
        )),
      );
    }
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).toBe(`${a.stem}:${a.expected}`);
    }
    const takers = new Set(answers.map((a) => a.web));
    expect([...takers].sort()).toEqual(processes.map((p) => p.id).sort());
  });

  it('counts every process in GET /live and serves each one’s metrics on an address of its own', async () => {
    const live = (await (await fetch(`${url}/live`)).json()) as { webProcesses: number; recognitions: unknown };
    expect(live.webProcesses).toBe(2);
    const { processes } = await webStatus(url);
    for (const p of processes) {
      expect(p.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const text = await (await fetch(p.metricsUrl!)).text();
      expect(text).toMatch(/facefleet_http_requests_total\{method="POST",route="\/",status="200",code="OK"\} \d+/);
    }
  });

  it('drops a reply whose queue is gone, and still stores its label', async () => {
    const requestId = randomUUID();
    const [stem, expected] = labels[1]!;
    const key = `uploads/${requestId}/${stem}.jpg`;
    await s3.send(
      new PutObjectCommand({
        Bucket: stack.config.resources.inBucket,
        Key: key,
        Body: image(stem),
        Metadata: { [FILE_NAME_METADATA]: encodeFileNameMetadata(`${stem}.jpg`) },
      }),
    );
    const gone = replyQueueName(stack.config.resources.prefix, 'w9-00000000');
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.request,
        MessageBody: encodeRequest({ v: MESSAGE_VERSION, requestId, key, sentAt: Date.now(), replyTo: gone }),
      }),
    );
    // Answered once and deleted, not retried: the request queue empties, and the label is in the out-bucket.
    await until(
      async () => {
        const d = await queueDepth(sqs, stack.queues.request);
        return d.visible + d.inFlight === 0;
      },
      30_000,
      'the request to be consumed',
    );
    const label = await s3.send(new GetObjectCommand({ Bucket: stack.config.resources.outBucket, Key: stem }));
    expect(await label.Body!.transformToString()).toBe(expected);
  });

  it('replaces a process killed outright, reaps its queue, and keeps answering', async () => {
    // The supervisor's view says which process is which.
    const group = stack.web.group!;
    const victim = group.processes().find((p) => p.index === 1)!;
    const survivor = group.processes().find((p) => p.index === 2)!;
    // Load on both while one dies: only requests the dead one held may fail.
    let stop = false;
    const results: Answer[] = [];
    const load = async (start: number) => {
      for (let i = start; !stop; i++) {
        const [stem] = labels[i % labels.length]!;
        results.push(await recognise(url, stem).catch(() => ({ status: 0, body: '', web: undefined })));
      }
    };
    const loads = [load(0), load(7), load(13), load(29)];
    await new Promise((r) => setTimeout(r, 1000));
    const killedAt = Date.now();
    group.kill(1, 'SIGKILL');
    let replacement: { id: string } | undefined;
    await until(
      async () => {
        const now = (await webStatus(url).catch(() => undefined))?.processes ?? [];
        replacement = now.find((p) => p.id !== victim.id && p.id !== survivor.id);
        return replacement !== undefined;
      },
      10_000,
      'a replacement web process',
    );
    const replacedMs = Date.now() - killedAt;
    await until(async () => !(await replyQueues()).includes(victim.replyQueue), 15_000, 'the dead queue to go');
    stop = true;
    await Promise.all(loads);
    const after = results.filter((r) => r.status === 200);
    expect(after.length).toBeGreaterThan(0);
    // Every failure is one the dead process held: none was answered by a living process with an error.
    expect(results.filter((r) => r.status !== 200 && r.status !== 0)).toEqual([]);
    expect(replacedMs).toBeLessThan(10_000);
    // The replacement takes requests.
    await until(
      async () => (await recognise(url, labels[2]![0])).web === replacement!.id,
      20_000,
      'the replacement to answer',
    );
  });

  it('deletes every reply queue at a clean stop', async () => {
    expect((await replyQueues()).length).toBe(2);
    await stack.web.stop();
    expect(await replyQueues()).toEqual([]);
  });
});
