/**
 * Provisioning takes S3's `s3:TestEvent` off the video queue once the notification is set, so that the autoscaler
 * does not launch an instance for it; any other message stays. Real SQS (fauxqs) through the real SDK.
 */
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestEvents } from '../../src/deploy/video-events.js';
import { startEmulator, type Emulator } from '../../src/local/emulator.js';
import { createSqsClient } from '../../src/shared/aws/clients.js';
import { loadConfig } from '../../src/shared/config/config.js';

describe('the s3:TestEvent after a bucket notification', () => {
  let emulator: Emulator;
  let sqs: ReturnType<typeof createSqsClient>;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, region: 'us-east-1' });
    sqs = createSqsClient(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
  });

  afterAll(async () => {
    sqs.destroy();
    await emulator.stop();
  });

  it('is taken off the queue, and a real event stays for the workers', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'test-event-video-queue' }));
    const test = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'asu1234-in-bucket' });
    const real = JSON.stringify({
      Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: 'videos/a.mp4' } } }],
    });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: test }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: real }));
    expect(await removeTestEvents(sqs, QueueUrl!)).toBe(1);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages.map((m) => m.Body)).toEqual([real]);
  });
});
