/**
 * An upload that is stored but cannot be queued leaves nothing behind: its image is deleted from the in-bucket
 * and the client is told to try again. Real S3 (fauxqs) through the real SDK; the queue refuses.
 */
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../src/shared/aws/clients.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { startEmulator, type Emulator } from '../../src/local/emulator.js';
import { AppError } from '../../src/shared/wire/errors.js';
import { createLogger } from '../../src/shared/logger.js';
import { decodeFileNameMetadata, FILE_NAME_METADATA, inBucketKey } from '../../src/shared/wire/messages.js';
import type { RequestSender } from '../../src/web-tier/app-tier-client/request-sender.js';
import type { ResponseRouter } from '../../src/web-tier/app-tier-client/response-router.js';
import { AppTierClient, type AppTierClientDeps } from '../../src/web-tier/app-tier-client/client.js';
import { AnswerTimer } from '../../src/web-tier/requests/answer-timer.js';

describe('the app-tier client', () => {
  let emulator: Emulator;
  let s3: ReturnType<typeof createS3Client>;
  const Bucket = 'submit-in';
  const cancelled: string[] = [];
  const router = {
    wait: () => new Promise(() => undefined),
    cancel: (id: string) => cancelled.push(id),
  } as unknown as ResponseRouter;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, region: 'us-east-1' });
    s3 = createS3Client(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
    await s3.send(new CreateBucketCommand({ Bucket }));
  });

  afterAll(async () => {
    s3.destroy();
    await emulator.stop();
  });

  const client = (requests: Pick<RequestSender, 'send'>): AppTierClient => new AppTierClient(deps(requests));
  const deps = (requests: Pick<RequestSender, 'send'>): AppTierClientDeps => ({
    s3,
    requests: requests as RequestSender,
    videoRequests: requests as RequestSender,
    router,
    inBucket: Bucket,
    resultTimeoutSeconds: 5,
    logger: createLogger(loadConfig({ LOG_LEVEL: 'silent' }), { tier: 'test' }),
  });
  const submission = (requestId: string, fileName: string) => ({
    requestId,
    key: inBucketKey(requestId, fileName),
    fileName,
    body: new Uint8Array([1, 2, 3]),
    contentType: 'image/jpeg',
    task: 'recognize' as const,
    faces: 'subject' as const,
    timer: new AnswerTimer(),
  });

  it('deletes the stored image when the request cannot be queued, and answers STORAGE_UNAVAILABLE', async () => {
    const refusing = { send: () => Promise.reject(new Error('the queue is gone')) };
    const error = await client(refusing)
      .submit(submission('5b0e6c4e-4f0a-4a53-9b1e-2f4c0a1d9e01', 'x.jpg'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('STORAGE_UNAVAILABLE');
    expect(cancelled).toContain('5b0e6c4e-4f0a-4a53-9b1e-2f4c0a1d9e01');
    const { KeyCount = 0 } = await s3.send(new ListObjectsV2Command({ Bucket }));
    expect(KeyCount).toBe(0);
  });

  it('stores the whole file name in the image metadata, whatever the key could hold', async () => {
    const name = `${'😀'.repeat(150)}.jpg`;
    const requestId = '7d1c2b3a-0e4f-4a5b-8c6d-9e0f1a2b3c4d';
    const queued: string[] = [];
    void client({ send: async (body: string) => void queued.push(body) }).submit(submission(requestId, name));
    await new Promise((r) => setTimeout(r, 200));
    expect(queued).toHaveLength(1);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: inBucketKey(requestId, name) }));
    expect(decodeFileNameMetadata(head.Metadata?.[FILE_NAME_METADATA])).toBe(name);
  });
});
