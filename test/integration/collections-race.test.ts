/**
 * Two writers racing on one collection. fauxqs ignores If-Match / If-None-Match on PutObject, so here a
 * middleware on the SDK client checks them against the emulator's stored ETag before the write goes out (in
 * one test process, nothing runs between that check and the write), answering 412 PreconditionFailed as AWS
 * S3 does. Everything else is the emulator's.
 */
import { CreateBucketCommand, HeadObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { l2Normalize } from '../../src/app-tier/recognition/embedder.js';
import { createS3Client } from '../../src/shared/aws/clients.js';
import { CollectionRepository, faceToAdd } from '../../src/shared/collections/repository.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { startEmulator, type Emulator } from '../../src/local/emulator.js';
import { EMBEDDING_DIMENSIONS } from '../../src/shared/collections/names-and-faces.js';
import { OneAtATime } from '../../src/shared/one-at-a-time.js';

const SHA = 'd'.repeat(64);
const face = (seed: number) => ({
  id: seed.toString(16).padStart(16, '0'),
  embedding: l2Normalize(Float32Array.from({ length: EMBEDDING_DIMENSIONS }, (_, i) => Math.sin(seed * 3.1 + i))),
});

describe('two writers racing on one collection', () => {
  let emulator: Emulator;
  let plain: S3Client;
  const bucket = 'race';

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, region: 'us-east-1' });
    plain = createS3Client(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
    await plain.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    plain.destroy();
    await emulator.stop();
  });

  const conditionalWrites = new OneAtATime();

  /** A client whose conditional PutObjects are held to their condition; `beforeManifest` runs before each. */
  function conditionalClient(beforeManifest: () => Promise<void>, log: string[], who: string): S3Client {
    const client = createS3Client(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key: string; IfMatch?: string; IfNoneMatch?: string };
        if (context.commandName !== 'PutObjectCommand' || !input.Key.endsWith('manifest.json')) return next(args);
        await beforeManifest();
        // The check and the write are one step, as in S3: one conditional write at a time.
        return conditionalWrites.run(async () => {
          const etag = await plain.send(new HeadObjectCommand({ Bucket: bucket, Key: input.Key })).then(
            (h) => h.ETag,
            () => undefined,
          );
          const ok = input.IfNoneMatch === '*' ? etag === undefined : input.IfMatch === etag;
          log.push(`${who}:${ok ? 'written' : '412'}`);
          if (!ok) {
            throw new S3ServiceException({
              name: 'PreconditionFailed',
              $fault: 'client',
              $metadata: { httpStatusCode: 412 },
              message: 'At least one of the pre-conditions you specified did not hold',
            });
          }
          return next(args);
        });
      },
      { step: 'initialize' },
    );
    return client;
  }

  /**
   * Two writers that have both read the collection and written their segments before either swaps the
   * manifest, and the log of their manifest writes.
   */
  function twoWriters() {
    let arrived = 0;
    let release!: () => void;
    const bothReady = new Promise<void>((r) => (release = r));
    const barrier = async () => {
      if (++arrived === 2) release();
      if (arrived <= 2) await bothReady;
    };
    const log: string[] = [];
    const a = new CollectionRepository(conditionalClient(barrier, log, 'a'), bucket, SHA);
    const b = new CollectionRepository(conditionalClient(barrier, log, 'b'), bucket, SHA);
    return { a, b, log };
  }

  it('loses no enrollment: the loser reads the new version and plans its change again', async () => {
    const seed = new CollectionRepository(plain, bucket, SHA);
    await seed.create('class');
    const { a, b, log } = twoWriters();
    const enroll = (r: CollectionRepository, name: string, s: number) =>
      r.change('class', (view) => ({ add: view.planAdd(name, [face(s)]).map((f) => faceToAdd(name, f)), result: {} }));
    const versions = await Promise.all([enroll(a, 'Ana', 1), enroll(b, 'Bo', 2)]);
    expect(log.filter((l) => l.endsWith(':412'))).toHaveLength(1);
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2]);
    const { manifest, view } = await new CollectionRepository(plain, bucket, SHA).read('class');
    expect(view.page({ limit: 10 }).people.map((p) => p.name)).toEqual(['Ana', 'Bo']);
    expect([manifest.version, manifest.faces, manifest.entries.length]).toEqual([2, 2, 2]);
    // The loser's first segment was deleted: only the two listed segments' objects remain.
    expect(await seed.sweepOrphans('class', 0)).toEqual([]);
  });

  it('refuses a second enrollment of one photo under another name, whoever wins', async () => {
    await new CollectionRepository(plain, bucket, SHA).create('photos');
    const { a, b } = twoWriters();
    const enroll = (r: CollectionRepository, name: string) =>
      r.change('photos', (view) => ({ add: view.planAdd(name, [face(9)]).map((f) => faceToAdd(name, f)), result: {} }));
    const outcomes = await Promise.allSettled([enroll(a, 'Ana'), enroll(b, 'Bo')]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason.code).toBe('PHOTO_ENROLLED_ELSEWHERE');
    const { view } = await new CollectionRepository(plain, bucket, SHA).read('photos');
    expect(view.faces).toBe(1);
  });
});
