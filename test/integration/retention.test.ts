/**
 * Retention on one machine: `npm start`'s sweeper deletes what the S3 lifecycle rules expire on AWS (uploads and
 * labels older than RETENTION_DAYS) and never enrollment photos or the gallery. Real S3 (fauxqs), real SDK.
 */
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionSweeper } from '../../src/local/retention-sweeper.js';
import { createS3Client } from '../../src/shared/aws/clients.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { startEmulator, type Emulator } from '../../src/local/emulator.js';
import { createLogger } from '../../src/shared/logger.js';
import { retentionRules } from '../../src/shared/aws/resources.js';

describe('the local retention sweeper', () => {
  let emulator: Emulator;
  let s3: ReturnType<typeof createS3Client>;
  const names = { inBucket: 'ret-in', outBucket: 'ret-out' };

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, region: 'us-east-1' });
    s3 = createS3Client(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
    for (const Bucket of Object.values(names)) await s3.send(new CreateBucketCommand({ Bucket }));
  });

  afterAll(async () => {
    s3.destroy();
    await emulator.stop();
  });

  const keys = async (Bucket: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((o) => o.Key).sort();
  const put = (Bucket: string, Key: string) => s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));

  it('deletes uploads and labels older than the retention, and keeps enrollment photos and newer objects', async () => {
    await put(names.inBucket, 'uploads/r1/old.jpg');
    await put(names.inBucket, 'enrollment/r2/ana.jpg');
    await put(names.outBucket, 'old');
    const sweeper = new RetentionSweeper({
      s3,
      rules: retentionRules(names),
      maxAgeMs: 1000,
      logger: createLogger(loadConfig({ LOG_LEVEL: 'silent' }), { tier: 'test' }),
    });
    // Nothing is older than a second yet.
    expect(await sweeper.sweep()).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    await put(names.inBucket, 'uploads/r3/new.jpg');
    await put(names.outBucket, 'new');
    expect(await sweeper.sweep()).toBe(2);
    expect(await keys(names.inBucket)).toEqual(['enrollment/r2/ana.jpg', 'uploads/r3/new.jpg']);
    expect(await keys(names.outBucket)).toEqual(['new']);
  });

  it('sweeps on a timer a quarter of the retention, at most hourly', () => {
    const make = (maxAgeMs: number) =>
      new RetentionSweeper({ s3, rules: [], maxAgeMs, logger: createLogger(loadConfig({}), { tier: 'test' }) });
    expect(make(7 * 86_400_000).intervalMs).toBe(3_600_000);
    expect(make(60_000).intervalMs).toBe(15_000);
    expect(make(10).intervalMs).toBe(1000);
  });
});
