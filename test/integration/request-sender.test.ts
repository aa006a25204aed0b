/**
 * The web tier's batching sender against a real SQS (fauxqs) through the real SDK client: concurrent
 * messages share calls, an idle one goes at once, and a message SQS refuses fails alone.
 */
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../src/shared/aws/clients.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { startEmulator, type Emulator } from '../../src/local/emulator.js';
import { MessageRefusedError, RequestSender } from '../../src/web-tier/app-tier-client/request-sender.js';

describe('RequestSender', () => {
  let emulator: Emulator;
  let sqs: ReturnType<typeof createSqsClient>;
  let queueUrl: string;
  let batchCalls: number[];

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, region: 'us-east-1' });
    sqs = createSqsClient(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
    ({ QueueUrl: queueUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: 'sender-test', Attributes: { MaximumMessageSize: '1024' } }),
    ));
    // Record the size of every batch the sender makes, then let the real call through.
    const send = sqs.send.bind(sqs) as (command: unknown) => Promise<unknown>;
    batchCalls = [];
    sqs.send = ((command: unknown) => {
      if (command instanceof SendMessageBatchCommand) batchCalls.push(command.input.Entries?.length ?? 0);
      return send(command);
    }) as typeof sqs.send;
  });

  afterAll(async () => {
    sqs.destroy();
    await emulator.stop();
  });

  async function receiveAll(expected: number): Promise<string[]> {
    const bodies: string[] = [];
    for (let attempt = 0; attempt < 20 && bodies.length < expected; attempt++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      bodies.push(...Messages.map((m) => m.Body!));
    }
    return bodies;
  }

  it('sends a lone message at once, in a call of its own', async () => {
    batchCalls = [];
    await new RequestSender(sqs, queueUrl).send('alone');
    expect(batchCalls).toEqual([1]);
    expect(await receiveAll(1)).toEqual(['alone']);
  });

  it('puts concurrent messages into shared calls of at most ten, and delivers every one', async () => {
    batchCalls = [];
    const sender = new RequestSender(sqs, queueUrl);
    const bodies = Array.from({ length: 45 }, (_, i) => `m${i}`);
    await Promise.all(bodies.map((b) => sender.send(b)));
    expect(batchCalls.reduce((a, b) => a + b, 0)).toBe(45);
    expect(Math.max(...batchCalls)).toBeLessThanOrEqual(10);
    // Two calls go out at once with one message each; the 43 that queued behind them share five more.
    expect(batchCalls.length).toBeLessThanOrEqual(7);
    expect((await receiveAll(45)).sort()).toEqual([...bodies].sort());
  });

  it('fails only the message that SQS refuses', async () => {
    const sender = new RequestSender(sqs, queueUrl);
    const tooLong = 'x'.repeat(2000);
    const results = await Promise.allSettled([
      sender.send('a'),
      sender.send('b'),
      sender.send(tooLong),
      sender.send('c'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const reason = (results[2] as PromiseRejectedResult).reason as Error;
    expect(reason).toBeInstanceOf(MessageRefusedError);
    expect(reason.message).toMatch(/^the request queue refused the message: /);
    expect((await receiveAll(3)).sort()).toEqual(['a', 'b', 'c']);
  });
});
