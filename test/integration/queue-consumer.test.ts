/**
 * The generic queue consumer against a real SQS (fauxqs) through the real SDK client, with a handler that knows
 * nothing of faces: replies go out and requests are deleted, a hiccup is retried on a later receive, a
 * permanent failure is answered at once, the last allowed attempt is answered as given up, a malformed message
 * is deleted without a reply, and stop lets the open poll end.
 */
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueConsumer, type MessageHandler } from '../../src/app-tier/queue-consumer.js';
import { ReplyQueueUrls } from '../../src/app-tier/reply-queue-directory.js';
import type { FinalDecision } from '../../src/app-tier/retry-decision.js';
import { createSqsClient } from '../../src/shared/aws/clients.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { startEmulator, type Emulator } from '../../src/local/emulator.js';
import { AppError } from '../../src/shared/wire/errors.js';
import { queueDepth } from '../../src/shared/aws/resources.js';
import { until } from '../helpers/stack.js';

/** Bodies are "<kind>:<text>": ok, flaky (fails its first two receives), broken (always fails), refuse. */
class EchoHandler implements MessageHandler<{ kind: string; text: string }> {
  readonly handled = new Map<string, number>();

  accept(message: Message) {
    const [kind, text] = (message.Body ?? '').split(':');
    return kind && text ? { kind, text } : undefined;
  }

  async handle(job: { kind: string; text: string }): Promise<string> {
    const n = (this.handled.get(job.text) ?? 0) + 1;
    this.handled.set(job.text, n);
    if (job.kind === 'refuse') throw new AppError('NO_FACE', { file: job.text });
    if (job.kind === 'broken' || (job.kind === 'flaky' && n < 3)) throw new Error(`hiccup ${n}`);
    return `${job.text.toUpperCase()} after ${n}`;
  }

  replyToFailure(job: { text: string }, decision: FinalDecision): string {
    return decision.kind === 'refuse'
      ? `${job.text} refused: ${decision.error.code}`
      : `${job.text} gave up after ${decision.attempts}`;
  }

  logContext(job: { text: string }) {
    return { text: job.text };
  }
}

describe('QueueConsumer', () => {
  let emulator: Emulator;
  let sqs: ReturnType<typeof createSqsClient>;
  let pollSqs: ReturnType<typeof createSqsClient>;
  let requests: string;
  let replies: string;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, region: 'us-east-1' });
    const config = loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint });
    sqs = createSqsClient(config);
    pollSqs = createSqsClient(config);
    // A failed message comes back after one second.
    ({ QueueUrl: requests = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: 'consumer-requests', Attributes: { VisibilityTimeout: '1' } }),
    ));
    ({ QueueUrl: replies = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'consumer-replies' })));
  });

  afterAll(async () => {
    sqs.destroy();
    pollSqs.destroy();
    await emulator.stop();
  });

  it('answers, retries, refuses, gives up and drops as the retry decision says, and stops cleanly', async () => {
    const handler = new EchoHandler();
    const consumer = new QueueConsumer({
      queueUrl: requests,
      replyQueueUrl: replies,
      pollSqs,
      sqs,
      handler,
      logger: pino({ level: 'silent' }),
      batchSize: 10,
      waitTimeSeconds: 1,
      maxReceiveCount: 3,
    });
    for (const body of ['ok:hello', 'flaky:wobbly', 'broken:crash', 'refuse:nobody', 'malformed']) {
      await sqs.send(new SendMessageCommand({ QueueUrl: requests, MessageBody: body }));
    }
    consumer.start();
    const got: string[] = [];
    await until(
      async () => {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: replies, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        got.push(...Messages.map((m) => m.Body!));
        return got.length >= 4;
      },
      30_000,
      'four replies',
    );
    expect(got.sort()).toEqual(['HELLO after 1', 'WOBBLY after 3', 'crash gave up after 3', 'nobody refused: NO_FACE']);
    // A permanent failure is handled once; a hiccup once per receive, up to the limit.
    expect(Object.fromEntries(handler.handled)).toEqual({ hello: 1, wobbly: 3, crash: 3, nobody: 1 });
    // Every request is deleted, the malformed one too.
    await until(
      async () => {
        const depth = await queueDepth(sqs, requests);
        return depth.visible === 0 && depth.inFlight === 0;
      },
      10_000,
      'an empty request queue',
    );
    const stopping = Date.now();
    await consumer.stop();
    // The open poll (1 s) is let end, not aborted.
    expect(Date.now() - stopping).toBeLessThan(5_000);
    await sqs.send(new SendMessageCommand({ QueueUrl: requests, MessageBody: 'ok:after-stop' }));
    await new Promise((r) => setTimeout(r, 1500));
    expect(handler.handled.has('after-stop')).toBe(false);
    expect((await queueDepth(sqs, requests)).visible).toBe(1);
  });

  it('sends each reply to the queue its request names, and drops (once said) those whose queue is gone', async () => {
    const { QueueUrl: requestsUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'addressed-requests' }));
    const { QueueUrl: own = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'addressed-w1' }));
    // Bodies are "<text>@<reply queue name>", "<text>@" for the default, "<text>@!" for a queue that is not ours.
    const addressed: MessageHandler<{ text: string; to: string }> = {
      accept: (m) => {
        const [text = '', to = ''] = (m.Body ?? '').split('@');
        return { text, to };
      },
      handle: async ({ text }) => text,
      replyToFailure: () => 'failed',
      logContext: () => ({}),
      replyQueue: ({ to }) => (to === '' ? undefined : to === '!' ? null : to),
    };
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg as string) });
    const directory = new ReplyQueueUrls(sqs, logger);
    const consumer = new QueueConsumer({
      queueUrl: requestsUrl,
      replyQueueUrl: replies,
      replyQueues: directory,
      pollSqs,
      sqs,
      handler: addressed,
      logger,
      batchSize: 10,
      waitTimeSeconds: 1,
      maxReceiveCount: 3,
    });
    const bodies = ['a@addressed-w1', 'b@', 'c@addressed-gone', 'd@addressed-gone', 'e@!', 'f@addressed-w1'];
    for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: requestsUrl, MessageBody: body }));
    consumer.start();
    await until(
      async () => {
        const depth = await queueDepth(sqs, requestsUrl);
        return depth.visible === 0 && depth.inFlight === 0;
      },
      20_000,
      'every request deleted',
    );
    await consumer.stop();
    const drain = async (url: string) => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      return Messages.map((m) => m.Body!).sort();
    };
    expect(await drain(own)).toEqual(['a', 'f']);
    expect(await drain(replies)).toEqual(['b']);
    expect(directory.dropped).toBe(2);
    // The gone queue is said once, at warn, however many replies it drops.
    expect(warnings.filter((w) => w.startsWith('the reply queue is gone'))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('not one of ours'))).toHaveLength(1);
  });

  /** Two consumers on one queue whose visibility timeout (1 s) is shorter than each message's work (2.5 s). */
  const slowBatch = async (queueName: string, heartbeat: boolean) => {
    const { QueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: queueName, Attributes: { VisibilityTimeout: '1' } }),
    );
    const handled = new Map<string, number>();
    const extended: number[] = [];
    const slow: MessageHandler<string> = {
      accept: (m) => m.Body,
      handle: async (text) => {
        handled.set(text, (handled.get(text) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 2500));
        return text;
      },
      replyToFailure: () => 'failed',
      logContext: () => ({}),
    };
    const second = createSqsClient(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
    const consumers = [pollSqs, second].map(
      (client) =>
        new QueueConsumer({
          queueUrl: QueueUrl,
          replyQueueUrl: replies,
          pollSqs: client,
          sqs,
          handler: slow,
          logger: pino({ level: 'silent' }),
          batchSize: 10,
          waitTimeSeconds: 1,
          maxReceiveCount: 5,
          ...(heartbeat ? { heartbeat: { heartbeatSeconds: 0.4, visibilityTimeoutSeconds: 1 } } : {}),
          onHeartbeat: (n) => extended.push(n),
        }),
    );
    for (const text of ['first', 'second']) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: text }));
    for (const c of consumers) c.start();
    if (heartbeat) {
      await until(
        async () => {
          const depth = await queueDepth(sqs, QueueUrl);
          return depth.visible === 0 && depth.inFlight === 0;
        },
        30_000,
        'both messages answered and deleted',
      );
    } else {
      // Without it the messages come back while held, and a late delete's receipt is stale: they never go.
      await until(() => [...handled.values()].reduce((a, b) => a + b, 0) > 2, 30_000, 'a message handled twice');
    }
    await Promise.all(consumers.map((c) => c.stop()));
    second.destroy();
    return { handled: Object.fromEntries(handled), extended };
  };

  it('keeps a batch slower than the visibility timeout its own: each message is handled once', async () => {
    const { handled, extended } = await slowBatch('consumer-heartbeat', true);
    expect(handled).toEqual({ first: 1, second: 1 });
    // Both held at first; only the second once the first is done... and until the batch is deleted.
    expect(extended.length).toBeGreaterThanOrEqual(8);
    expect(extended.every((n) => n >= 1 && n <= 2)).toBe(true);
  });

  it('without the heartbeat, the same batch is handed to the other consumer too (what the heartbeat prevents)', async () => {
    const { handled } = await slowBatch('consumer-no-heartbeat', false);
    expect(handled['first']! + handled['second']!).toBeGreaterThan(2);
  });
});
