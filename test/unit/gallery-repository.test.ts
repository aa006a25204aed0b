/**
 * The gallery's conditional writes. The fauxqs emulator ignores If-Match / If-None-Match on PutObject, so the
 * race between two writers is played here against a stand-in S3 object that enforces them as AWS S3 does
 * (412 PreconditionFailed on a stale ETag). Plain reads and writes run against fauxqs in the integration tests.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { l2Normalize } from '../../src/app-tier/recognition/embedder.js';
import { AppError } from '../../src/shared/errors.js';
import { addFaces, EMBEDDING_DIMENSIONS } from '../../src/shared/gallery.js';
import { GalleryRepository } from '../../src/shared/gallery-repository.js';

const SHA = 'b'.repeat(64);
const s3Mock = mockClient(S3Client);

const face = (seed: number) => {
  const v = new Float32Array(EMBEDDING_DIMENSIONS).map((_, i) => Math.sin(seed + i));
  return { id: seed.toString(16).padStart(16, '0'), embedding: l2Normalize(v) };
};

const failure = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

/** One S3 object with conditional PutObject, as AWS S3 has it since 2024. */
function conditionalObject(options: { beforePut?: () => Promise<void> } = {}) {
  let stored: { body: string; etag: string } | undefined;
  let writes = 0;
  const puts: { IfMatch?: string; IfNoneMatch?: string }[] = [];
  s3Mock.on(HeadObjectCommand).callsFake(() => {
    if (!stored) throw failure('NotFound', 404);
    return { ETag: stored.etag };
  });
  s3Mock.on(GetObjectCommand).callsFake(() => {
    if (!stored) throw failure('NoSuchKey', 404);
    const { body, etag } = stored;
    return { ETag: etag, Body: { transformToString: async () => body } };
  });
  s3Mock.on(PutObjectCommand).callsFake(async (input: { Body: string; IfMatch?: string; IfNoneMatch?: string }) => {
    puts.push({ IfMatch: input.IfMatch, IfNoneMatch: input.IfNoneMatch });
    await options.beforePut?.();
    if (input.IfNoneMatch === '*' && stored) throw failure('PreconditionFailed', 412);
    if (input.IfMatch !== undefined && input.IfMatch !== stored?.etag) throw failure('PreconditionFailed', 412);
    stored = { body: input.Body, etag: `"${++writes}"` };
    return { ETag: stored.etag };
  });
  return { puts, read: () => (stored ? JSON.parse(stored.body) : undefined) };
}

describe('GalleryRepository', () => {
  beforeEach(() => s3Mock.reset());

  it('creates the gallery only if absent, then writes only over the version it read', async () => {
    const object = conditionalObject();
    const repo = new GalleryRepository(new S3Client({}), 'gallery', SHA);
    await repo.update((g) => addFaces(g, 'Paul', [face(1)]));
    await repo.update((g) => addFaces(g, 'Emily', [face(2)]));
    expect(object.puts).toEqual([{ IfNoneMatch: '*' }, { IfMatch: '"1"' }]);
    expect(object.read().version).toBe(2);
  });

  it('loses no change when two writers race: the loser reads again and re-applies its edit', async () => {
    // Both writers read before either writes: the first write wins, the second gets 412 and retries.
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((r) => (release = r));
    const object = conditionalObject({
      beforePut: async () => {
        if (++arrived === 2) release();
        if (arrived <= 2) await bothRead;
      },
    });
    const a = new GalleryRepository(new S3Client({}), 'gallery', SHA);
    const b = new GalleryRepository(new S3Client({}), 'gallery', SHA);
    await Promise.all([
      a.update((g) => addFaces(g, 'Paul', [face(1)])),
      b.update((g) => addFaces(g, 'Emily', [face(2)])),
    ]);
    const stored = object.read();
    expect(stored.people.map((p: { name: string }) => p.name).sort()).toEqual(['Emily', 'Paul']);
    expect(stored.version).toBe(2);
    expect(object.puts.filter((p) => p.IfMatch || p.IfNoneMatch)).toHaveLength(3);
  });

  it('runs one process’s changes one after another', async () => {
    const object = conditionalObject();
    const repo = new GalleryRepository(new S3Client({}), 'gallery', SHA);
    await Promise.all(Array.from({ length: 8 }, (_, i) => repo.update((g) => addFaces(g, `P${i}`, [face(i)]))));
    expect(object.read().people).toHaveLength(8);
    expect(object.read().version).toBe(8);
    // No write lost a race: each one saw the previous.
    expect(object.puts).toHaveLength(8);
  });

  it('gives up with GALLERY_BUSY when it keeps losing', async () => {
    s3Mock.on(HeadObjectCommand).rejects(failure('NotFound', 404));
    s3Mock.on(GetObjectCommand).rejects(failure('NoSuchKey', 404));
    s3Mock.on(PutObjectCommand).rejects(failure('PreconditionFailed', 412));
    const repo = new GalleryRepository(new S3Client({}), 'gallery', SHA);
    const error = await repo.update((g) => addFaces(g, 'Paul', [face(1)])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('GALLERY_BUSY');
  });

  it('refuses a gallery made by another embedder, unless replacing it', async () => {
    const object = conditionalObject();
    await new GalleryRepository(new S3Client({}), 'gallery', 'c'.repeat(64)).update((g) =>
      addFaces(g, 'Paul', [face(1)]),
    );
    const repo = new GalleryRepository(new S3Client({}), 'gallery', SHA);
    await expect(repo.read()).rejects.toMatchObject({ code: 'GALLERY_MODEL_MISMATCH' });
    await repo.update((g) => addFaces(g, 'Emily', [face(2)]), { replace: true });
    expect(object.read()).toMatchObject({ embedderSha256: SHA, version: 2 });
  });
});
