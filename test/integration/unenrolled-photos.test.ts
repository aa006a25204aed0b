/**
 * Enrollment photos that a crash left without a gallery entry are deleted by the next web tier; photos in use,
 * and photos young enough to belong to an enrollment in progress, are kept. Real S3 (fauxqs), real SDK.
 */
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../src/shared/aws/clients.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { startEmulator, type Emulator } from '../../src/local/emulator.js';
import { EMBEDDING_DIMENSIONS } from '../../src/shared/collections/names-and-faces.js';
import { CollectionRepository, faceToAdd } from '../../src/shared/collections/repository.js';
import { createLogger } from '../../src/shared/logger.js';
import { deleteUnenrolledPhotos } from '../../src/web-tier/people/unenrolled-photos.js';

describe('enrollment photos that no collection uses', () => {
  let emulator: Emulator;
  let s3: ReturnType<typeof createS3Client>;
  const [inBucket, galleryBucket] = ['unused-in', 'unused-gallery'];

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, region: 'us-east-1' });
    s3 = createS3Client(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
    for (const Bucket of [inBucket, galleryBucket]) await s3.send(new CreateBucketCommand({ Bucket }));
  });

  afterAll(async () => {
    s3.destroy();
    await emulator.stop();
  });

  const keys = async () =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: inBucket }))).Contents ?? []).map((o) => o.Key).sort();
  const put = (Key: string) => s3.send(new PutObjectCommand({ Bucket: inBucket, Key, Body: 'photo' }));

  it('are deleted once older than an enrollment can take; used and young photos, and uploads, are kept', async () => {
    const collections = new CollectionRepository(s3, galleryBucket, 'a'.repeat(64));
    const embedding = new Float32Array(EMBEDDING_DIMENSIONS);
    embedding[0] = 1;
    const ana = { id: '0'.repeat(16), embedding, sourceKey: 'enrollment/r1/ana.jpg' };
    await collections.change('default', () => ({ add: [faceToAdd('Ana', ana)], result: {} }), { create: true });
    // A photo in another collection is in use too.
    await collections.create('staff');
    const bo = { id: '1'.repeat(16), embedding, sourceKey: 'enrollment/r4/bo.jpg' };
    await collections.change('staff', () => ({ add: [faceToAdd('Bo', bo)], result: {} }));
    for (const key of [
      'enrollment/r1/ana.jpg',
      'enrollment/r2/left-by-a-crash.jpg',
      'uploads/r3/test_000.jpg',
      'enrollment/r4/bo.jpg',
    ]) {
      await put(key);
    }
    const options = {
      s3,
      inBucket,
      collections,
      minAgeMs: 60_000,
      logger: createLogger(loadConfig({ LOG_LEVEL: 'silent' }), { tier: 'test' }),
    };
    // Too young: it may belong to an enrollment in progress on another web tier.
    expect(await deleteUnenrolledPhotos(options)).toEqual([]);
    // A minute later.
    expect(await deleteUnenrolledPhotos(options, Date.now() + 61_000)).toEqual(['enrollment/r2/left-by-a-crash.jpg']);
    expect(await keys()).toEqual(['enrollment/r1/ana.jpg', 'enrollment/r4/bo.jpg', 'uploads/r3/test_000.jpg']);
  });
});
