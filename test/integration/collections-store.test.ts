/**
 * Collections in the gallery bucket, on the emulator (fauxqs) with the real SDK: created, listed, described and
 * deleted; enrollments as segments and removals as tombstones; a writer that dies between its two steps; the
 * migration of a gallery.json; compaction; and a worker's cache that reads only what changed.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectionCache } from '../../src/app-tier/tasks/collection-cache.js';
import { l2Normalize } from '../../src/app-tier/recognition/embedder.js';
import { createS3Client } from '../../src/shared/aws/clients.js';
import { IndexSnapshots } from '../../src/shared/collections/index-snapshots.js';
import { collectionKeys } from '../../src/shared/collections/segment.js';
import { migrateGalleryDocument, MIGRATED_GALLERY_KEY } from '../../src/shared/collections/migration.js';
import { CollectionRepository, faceToAdd } from '../../src/shared/collections/repository.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { startEmulator, type Emulator } from '../../src/local/emulator.js';
import { AppError } from '../../src/shared/wire/errors.js';
import { EMBEDDING_DIMENSIONS, encodeVector } from '../../src/shared/collections/names-and-faces.js';
import { createLogger } from '../../src/shared/logger.js';
import { until } from '../helpers/stack.js';

const SHA = 'c'.repeat(64);
const logger = createLogger(loadConfig({ LOG_LEVEL: 'silent' }), { tier: 'test' });

function vector(seed: number): Float32Array {
  let state = seed * 7919 + 1;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return l2Normalize(Float32Array.from({ length: EMBEDDING_DIMENSIONS }, () => next() - 0.5));
}
const face = (seed: number) => ({ id: seed.toString(16).padStart(16, '0'), embedding: vector(seed) });
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: AppError | Error) => ('code' in err ? err.code : err.name),
  );

describe('collections in the gallery bucket', () => {
  let emulator: Emulator;
  let s3: S3Client;
  let bucket = 'collections-';
  let n = 0;
  const repo = (options?: ConstructorParameters<typeof CollectionRepository>[3]) =>
    new CollectionRepository(s3, bucket, SHA, options);
  const enroll = (r: CollectionRepository, collection: string, name: string, seeds: number[], create = false) =>
    r.change(
      collection,
      (view) => ({ add: view.planAdd(name, seeds.map(face)).map((f) => faceToAdd(name, f)), result: {} }),
      {
        create,
      },
    );

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, region: 'us-east-1' });
    s3 = createS3Client(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
  });
  afterAll(async () => {
    s3.destroy();
    await emulator.stop();
  });
  const freshBucket = async () => {
    bucket = `collections-${++n}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  };

  it('are created once, listed, described and deleted', async () => {
    await freshBucket();
    const r = repo();
    // The default collection always exists: empty before its first enrollment.
    expect((await r.list()).map((c) => [c.name, c.faces, c.version])).toEqual([['default', 0, 0]]);
    await r.create('staff');
    expect(await codeOf(r.create('staff'))).toBe('COLLECTION_EXISTS');
    await enroll(r, 'staff', 'Ana', [1, 2]);
    await enroll(r, 'default', 'Bo', [3], true);
    expect((await r.list()).map((c) => [c.name, c.people, c.faces, c.version])).toEqual([
      ['default', 1, 1, 1],
      ['staff', 1, 2, 1],
    ]);
    const staff = await r.describe('staff');
    expect(staff).toMatchObject({ name: 'staff', people: 1, faces: 2, segments: 1 });
    // 2 faces: 2 × (512 codes + a 4-byte scale) + a 12-byte header, and the JSON part.
    expect(staff.bytes).toBeGreaterThan(2 * 516 + 12);
    expect(await codeOf(enroll(r, 'nowhere', 'Cy', [4]))).toBe('COLLECTION_NOT_FOUND');
    const { sourceKeys } = await r.delete('staff');
    expect(sourceKeys).toEqual([]);
    expect(await codeOf(r.describe('staff'))).toBe('COLLECTION_NOT_FOUND');
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'collections/staff/' }));
    expect(left.Contents ?? []).toEqual([]);
  });

  it('hold each rule inside each collection, not across them', async () => {
    await freshBucket();
    const r = repo();
    await r.create('a');
    await r.create('b');
    await enroll(r, 'a', 'Paul', [1]);
    // The same photo and a look-alike name are fine in another collection...
    await enroll(r, 'b', 'PAUL', [1]);
    // ...but not in the same one.
    expect(await codeOf(enroll(r, 'a', 'PAUL', [2]))).toBe('CONFUSABLE_NAME');
    expect(await codeOf(enroll(r, 'a', 'Emily', [1]))).toBe('PHOTO_ENROLLED_ELSEWHERE');
  });

  it('remove by tombstone, and read the same from a fresh reader', async () => {
    await freshBucket();
    const writer = repo();
    await enroll(writer, 'default', 'Ana', [1, 2], true);
    await enroll(writer, 'default', 'Bo', [3]);
    await writer.change('default', (view) => ({
      remove: view
        .person('Ana')
        .map((f) => f.id)
        .slice(0, 1),
      result: {},
    }));
    await writer.change('default', (view) => ({ remove: view.person('Bo').map((f) => f.id), result: {} }));
    const { manifest, view } = await repo().read('default');
    expect(manifest.entries.map((e) => e.kind)).toEqual(['faces', 'faces', 'tombstones', 'tombstones']);
    expect(view.page({ limit: 10 }).people).toEqual([{ name: 'Ana', faces: 1 }]);
    expect([manifest.people, manifest.faces, manifest.version]).toEqual([1, 1, 4]);
  });

  it('keep the previous version whole when a writer dies between its segment and its manifest', async () => {
    await freshBucket();
    const r = repo();
    await enroll(r, 'default', 'Ana', [1], true);
    const before = await r.read('default');
    // A writer whose process dies after its segment is stored: the manifest write never happens.
    const dying = createS3Client(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
    let dead = false;
    dying.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string };
        // Dead from its manifest write on: it sends nothing more (no clean-up either).
        if (context.commandName === 'PutObjectCommand' && input.Key?.endsWith('manifest.json')) dead = true;
        if (dead) throw new Error('killed');
        return next(args);
      },
      { step: 'initialize' },
    );
    const doomed = new CollectionRepository(dying, bucket, SHA);
    await expect(enroll(doomed, 'default', 'Bo', [2])).rejects.toThrow('killed');
    dying.destroy();
    const after = await repo().read('default');
    expect(after.manifest).toEqual(before.manifest);
    expect(after.view.page({ limit: 10 }).people.map((p) => p.name)).toEqual(['Ana']);
    // Its segment is an orphan: never read, and swept once old enough to belong to no writer in progress.
    expect(await r.sweepOrphans('default')).toEqual([]);
    const swept = await r.sweepOrphans('default', 0);
    expect(swept.map((k) => k.replace(/\/[^/]+\.(json|vec)$/, '/*.$1')).sort()).toEqual([
      'collections/default/segments/*.json',
      'collections/default/segments/*.vec',
    ]);
    expect((await repo().read('default')).view.faces).toBe(1);
  });

  it('is whole after a writer process is killed at a random moment, again and again', async () => {
    await freshBucket();
    for (let round = 0; round < 4; round++) {
      const writer = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'test/helpers/collection-writer.ts',
          emulator.endpoint,
          bucket,
          'default',
          SHA,
          String(round * 1000),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let stored = 0;
      writer.stdout.on('data', (chunk: Buffer) => (stored += (chunk.toString().match(/stored/g) ?? []).length));
      await until(() => stored >= 6, 30_000, 'six versions stored');
      // Killed anywhere: between a segment and its manifest, in a compaction, or between two changes.
      await new Promise((r) => setTimeout(r, Math.random() * 40));
      writer.kill('SIGKILL');
      await once(writer, 'exit');
      // Whatever version is stored is whole: its manifest parses, every segment it lists is there, and the
      // faces it counts are the faces its segments hold.
      const { manifest, view } = await repo().read('default');
      expect(view.faces).toBe(manifest.faces);
      expect(view.peopleCount).toBe(manifest.people);
      const keys = new Set(
        (
          (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'collections/default/segments/' })))
            .Contents ?? []
        ).map((o) => o.Key),
      );
      for (const e of manifest.entries) {
        expect(keys.has(collectionKeys('default').meta(e.id))).toBe(true);
        if (e.kind === 'faces') expect(keys.has(collectionKeys('default').vectors(e.id))).toBe(true);
      }
      // And a worker loads it.
      const cache = new CollectionCache(repo(), logger, { maxFaces: 100_000, indexMinFaces: 1000 });
      expect((await cache.get('default'))!.size).toBe(manifest.faces);
    }
  });

  it('sweep segments no manifest lists once they are old', async () => {
    await freshBucket();
    const r = repo();
    await enroll(r, 'default', 'Ana', [1], true);
    const stray = collectionKeys('default').meta('00000009-deadbeef');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: stray, Body: '{}' }));
    expect(await r.sweepOrphans('default')).toEqual([]);
    expect(await r.sweepOrphans('default', 3_600_000, Date.now() + 3_601_000)).toEqual([stray]);
    expect((await r.read('default')).view.faces).toBe(1);
  });

  it('compacts small segments into one without changing who is enrolled', async () => {
    await freshBucket();
    const r = repo({ smallCount: 100, minEntries: 4 });
    await enroll(r, 'default', 'Ana', [1], true);
    await enroll(r, 'default', 'Bo', [2, 3]);
    await r.change('default', (view) => ({ remove: [view.person('Bo')[0]!.id], result: {} }));
    expect(await r.compact('default')).toBeUndefined();
    await enroll(r, 'default', 'Cy', [4]);
    const before = (await repo().read('default')).view.page({ limit: 10 });
    const done = await r.compact('default');
    expect(done).toMatchObject({ merged: 4, faces: 3 });
    const { manifest, view } = await repo().read('default');
    expect(manifest.entries).toHaveLength(1);
    expect(manifest.entries[0]!.compactedFrom).toHaveLength(4);
    expect(view.page({ limit: 10 })).toEqual(before);
  });

  it('moves a gallery.json into the default collection once, and finishes a move a crash cut short', async () => {
    await freshBucket();
    const legacy = {
      schemaVersion: 2,
      version: 7,
      embedderSha256: SHA,
      updatedAt: '2026-11-01T00:00:00.000Z',
      dimensions: 512,
      people: [
        {
          name: 'Paul',
          faces: [{ id: face(1).id, embedding: encodeVector(vector(1)), addedAt: '2026-11-01T00:00:00.000Z' }],
        },
        {
          name: 'Emily',
          faces: [
            {
              id: face(2).id,
              embedding: encodeVector(vector(2)),
              addedAt: '2026-11-01T00:00:00.000Z',
              sourceKey: 'enrollment/x/e.jpg',
            },
            { id: face(3).id, embedding: encodeVector(vector(3)), addedAt: '2026-11-01T00:00:00.000Z' },
          ],
        },
      ],
    };
    const putLegacy = () =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gallery.json', Body: JSON.stringify(legacy) }));
    await putLegacy();
    const r = repo();
    const o = { s3, bucket, collections: r, embedderSha256: SHA, logger };
    expect(await migrateGalleryDocument(o)).toEqual({ migrated: true, faces: 3, people: 2 });
    const { view, manifest } = await repo().read('default');
    expect(view.page({ limit: 10 }).people).toEqual([
      { name: 'Emily', faces: 2 },
      { name: 'Paul', faces: 1 },
    ]);
    expect([...view.sourceKeys()]).toEqual(['enrollment/x/e.jpg']);
    expect(manifest.version).toBe(1);
    const kept = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: MIGRATED_GALLERY_KEY }));
    expect(JSON.parse(await kept.Body!.transformToString()).version).toBe(7);
    // Nothing left to move.
    expect(await migrateGalleryDocument(o)).toEqual({ migrated: false, faces: 0, people: 0 });
    // A crash after the collection was written, before gallery.json was removed: finished, not done twice.
    await putLegacy();
    expect(await migrateGalleryDocument(o)).toEqual({ migrated: false, faces: 0, people: 0 });
    expect((await repo().read('default')).manifest.version).toBe(1);
    expect(await codeOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'gallery.json' })))).toBe('NoSuchKey');
  });

  it('stores an index a worker built, and the next worker reads it instead of building one', async () => {
    await freshBucket();
    const r = repo({ smallCount: 100, minEntries: 3 });
    const people = Array.from({ length: 120 }, (_, p) => p);
    await r.change('default', () => ({ add: people.map((p) => faceToAdd(`P${p}`, face(1000 + p))), result: {} }), {
      create: true,
    });
    const options = { maxFaces: 10_000, indexMinFaces: 50, snapshots: new IndexSnapshots(s3, bucket) };
    const first = new CollectionCache(repo(), logger, options);
    expect((await first.get('default'))!.indexed).toBe(true);
    await until(async () => (await options.snapshots.latest('default')) !== undefined, 20_000, 'the stored index');
    expect(first.summary()[0]!.fromStoredIndex).toBe(false);
    // Changes after it was stored: more faces, a removal, a compaction of those.
    await enroll(r, 'default', 'Late', [5000]);
    await r.change('default', () => ({ remove: [face(1000).id], result: {} }));
    await enroll(r, 'default', 'Later', [5001]);
    expect(await r.compact('default')).toMatchObject({ merged: 3 });
    const second = new CollectionCache(repo(), logger, options);
    const matcher = (await second.get('default'))!;
    expect(second.summary()[0]).toMatchObject({ fromStoredIndex: true, faces: 121 });
    expect(matcher.search(vector(1000 + 7), 1)[0]!.name).toBe('P7');
    expect(matcher.search(vector(5001), 1)[0]!.name).toBe('Later');
    expect(matcher.search(vector(1000), 3).map((c) => c.name)).not.toContain('P0');
    // A stored index no manifest can use any more (the collection made anew) is not used.
    await r.delete('default');
    await r.change('default', () => ({ add: people.map((p) => faceToAdd(`Q${p}`, face(6000 + p))), result: {} }), {
      create: true,
    });
    const stale = { v: 1, id: 'gone', version: 1, entries: ['00000001-aaaaaaaa'], faces: 120, bytes: 1 };
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'collections/default/index/latest.json',
        Body: JSON.stringify({ ...stale, createdAt: new Date().toISOString() }),
      }),
    );
    const third = new CollectionCache(repo(), logger, options);
    expect((await third.get('default'))!.search(vector(6003), 1)[0]!.name).toBe('Q3');
    expect(third.summary()[0]!.fromStoredIndex).toBe(false);
  });

  it('follows a compaction that merged what a worker holds with what it has not read yet', async () => {
    await freshBucket();
    const r = repo({ smallCount: 100, minEntries: 3 });
    await enroll(r, 'default', 'Ana', [1, 2], true);
    await enroll(r, 'default', 'Bo', [3]);
    const cache = new CollectionCache(repo(), logger, { maxFaces: 1000, indexMinFaces: 1000 });
    expect((await cache.get('default'))!.size).toBe(3);
    const webTier = repo();
    expect((await webTier.read('default')).view.faces).toBe(3);
    // Before the worker looks again: one more enrollment, a removal, and a compaction of all of them.
    await enroll(r, 'default', 'Cy', [4]);
    await r.change('default', (view) => ({
      remove: view
        .person('Ana')
        .map((f) => f.id)
        .slice(0, 1),
      result: {},
    }));
    expect(await r.compact('default')).toMatchObject({ merged: 4, faces: 3 });
    await cache.refresh();
    const matcher = cache.peek('default')!;
    expect([matcher.size, matcher.people]).toEqual([3, 3]);
    expect(matcher.search(vector(4), 1)[0]!.name).toBe('Cy');
    expect(matcher.search(vector(1), 3).find((c) => c.similarity > 0.99)).toBeUndefined();
    // Another web tier's view follows it the same way.
    expect((await webTier.read('default')).view.page({ limit: 10 }).people).toEqual([
      { name: 'Ana', faces: 1 },
      { name: 'Bo', faces: 1 },
      { name: 'Cy', faces: 1 },
    ]);
  });

  it('lets a worker read only what changed, nothing for a compaction, and drop the least recently used', async () => {
    await freshBucket();
    const r = repo({ smallCount: 100, minEntries: 3 });
    await enroll(r, 'default', 'Ana', [1, 2], true);
    await r.create('small');
    await enroll(r, 'small', 'Zed', [50]);
    const cache = new CollectionCache(repo(), logger, { maxFaces: 4, indexMinFaces: 1000 });
    const first = (await cache.get('default'))!;
    expect(first.search(vector(1), 1)[0]!.name).toBe('Ana');
    const read = () => cache.summary().find((c) => c.collection === 'default')!.bytesRead;
    const loaded = read();
    await enroll(r, 'default', 'Bo', [3]);
    const segment = (await r.read('default')).manifest.entries.at(-1)!.bytes;
    await cache.refresh();
    expect(read() - loaded).toBe(segment);
    expect((await cache.get('default'))!.search(vector(3), 1)[0]).toMatchObject({ name: 'Bo' });
    expect(cache.peek('default')!.version).toBe(2);
    await enroll(r, 'default', 'Cy', [4]);
    await cache.refresh();
    expect(await r.compact('default')).toMatchObject({ merged: 3, faces: 4 });
    const beforeCompactionRead = read();
    await cache.refresh();
    expect(read()).toBe(beforeCompactionRead);
    expect(cache.peek('default')!.version).toBe(4);
    expect(cache.peek('default')!.size).toBe(4);
    // A second collection takes the cache past 4 faces: the least recently used one goes.
    await cache.get('small');
    expect(cache.summary().map((c) => c.collection)).toEqual(['small']);
    expect(await cache.get('nowhere')).toBeUndefined();
  });

  it('never answers from a collection missing the faces a compaction merged, while it reads the merge', async () => {
    await freshBucket();
    const r = repo({ smallCount: 100, minEntries: 2 });
    await enroll(r, 'default', 'Ana', [1], true);
    const reader = repo();
    const cache = new CollectionCache(reader, logger, { maxFaces: 100, indexMinFaces: 1000 });
    await cache.get('default');
    // The worker holds Ana's segment; Bo's arrives, and a compaction merges both before the worker reads Bo's:
    // it must drop Ana's segment and read the merge, which takes a while (slow S3 here).
    await enroll(r, 'default', 'Bo', [2]);
    expect(await r.compact('default')).toMatchObject({ merged: 2, faces: 2 });
    const slowRead = reader.segmentVectors.bind(reader);
    reader.segmentVectors = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return slowRead(...args);
    };
    const sizes: number[] = [];
    const sampling = setInterval(() => sizes.push(cache.peek('default')!.size), 20);
    await cache.refresh();
    clearInterval(sampling);
    // Ana was in memory throughout (she was everyone: removed first, the worker answered GALLERY_EMPTY).
    expect(sizes.length).toBeGreaterThan(5);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
    expect(cache.peek('default')!.size).toBe(2);
    expect(cache.peek('default')!.search(vector(1), 1)[0]!.name).toBe('Ana');
    expect(cache.peek('default')!.search(vector(2), 1)[0]!.name).toBe('Bo');
  });
});
