/**
 * The autoscaler with videos queued, on real queues (fauxqs): each video counts as MESSAGES_PER_WORKER messages,
 * so that every video gets a worker of its own, while the status shows the messages as they are.
 */
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoscalerController } from '../../src/autoscaler/controller.js';
import type { Fleet, FleetWorker } from '../../src/autoscaler/fleet.js';
import { createSqsClient } from '../../src/shared/aws/clients.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { startEmulator, type Emulator } from '../../src/local/emulator.js';

/** A fleet in memory: EC2 has no local emulator, and here only the count asked for matters. */
class CountingFleet implements Fleet {
  readonly workers: FleetWorker[] = [];
  async list() {
    return [...this.workers];
  }
  async launch(count: number) {
    const ids = Array.from({ length: count }, (_, i) => `w${this.workers.length + i + 1}`);
    for (const id of ids) this.workers.push({ id, number: this.workers.length + 1, state: 'starting' });
    return ids;
  }
  async stop() {}
}

describe('scaling for videos', () => {
  let emulator: Emulator;
  let sqs: SQSClient;
  const urls: Record<string, string> = {};

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, region: 'us-east-1' });
    sqs = createSqsClient(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
    for (const name of ['requests', 'videos'])
      urls[name] = (await sqs.send(new CreateQueueCommand({ QueueName: `scaling-${name}` }))).QueueUrl!;
  });

  afterAll(async () => {
    sqs?.destroy();
    await emulator?.stop();
  });

  const send = (queue: string, count: number) =>
    sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: urls[queue],
        Entries: Array.from({ length: count }, (_, i) => ({ Id: String(i), MessageBody: `${queue} ${i}` })),
      }),
    );

  it('gives each video a worker, beside one per four images, and shows the messages as they are', async () => {
    await send('requests', 5);
    await send('videos', 3);
    const fleet = new CountingFleet();
    const controller = new AutoscalerController({
      sqs,
      requestQueueUrl: urls['requests']!,
      videoQueueUrl: urls['videos']!,
      fleet,
      policy: { messagesPerWorker: 4, minWorkers: 0, maxWorkers: 19, scaleInIdleMs: 0 },
      pollIntervalMs: 1000,
      logger: pino({ level: 'silent' }),
    });
    const decision = await controller.tick();
    // ceil((5 + 3 × 4) / 4) = 5: two for the images, one for each video. Counted as 8 messages it would be 2.
    expect(decision.desired).toBe(5);
    expect(fleet.workers).toHaveLength(5);
    expect(controller.status()?.queue).toEqual({ visible: 8, inFlight: 0 });
  });
});
