/**
 * A collection's search index, stored beside its segments so that a worker need not build it again: building
 * the HNSW index of a million faces takes minutes on two cores, reading it back seconds (docs/collections.md
 * has both). The first worker that builds a collection's index uploads it; the next ones download it and read
 * only the segments added since, as they would after any change. Under `collections/<name>/index/`:
 * `<id>.usearch` (usearch's own file), `<id>.rows.json` (which face and person each row of the index is), and
 * `latest.json`, written last, which names them and the manifest entries they hold.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { z } from 'zod';
import { isNotFound } from '../aws/clients.js';
import { collectionKeys } from './segment.js';

export const snapshotPointerSchema = z.object({
  v: z.literal(1),
  /** Names the snapshot's two objects. */
  id: z.string().regex(/^[0-9a-z-]{1,64}$/),
  /** The manifest version, and its entries, that the snapshot holds. */
  version: z.number().int().nonnegative(),
  entries: z.array(z.string()),
  faces: z.number().int().nonnegative(),
  /** Bytes of the index file. */
  bytes: z.number().int().nonnegative(),
  createdAt: z.string(),
});
export type SnapshotPointer = z.infer<typeof snapshotPointerSchema>;

/** Which face and person each row of a snapshot's index is (the matcher's rows). */
export const snapshotRowsSchema = z.object({
  v: z.literal(1),
  names: z.array(z.string()),
  /** Per row: its person's index in `names`, base64 of little-endian int32. */
  rowPerson: z.string(),
  /** Per row: the face id, or '' for a row removed since. */
  ids: z.array(z.string()),
});
export type SnapshotRows = z.infer<typeof snapshotRowsSchema>;

export const snapshotKeys = (collection: string) => {
  const base = `${collectionKeys(collection).base}index/`;
  return {
    base,
    latest: `${base}latest.json`,
    index: (id: string) => `${base}${id}.usearch`,
    rows: (id: string) => `${base}${id}.rows.json`,
  };
};

export class IndexSnapshots {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** The snapshot `latest.json` names, or undefined when there is none. */
  async latest(collection: string): Promise<SnapshotPointer | undefined> {
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: snapshotKeys(collection).latest }),
      );
      return snapshotPointerSchema.parse(JSON.parse(await object.Body!.transformToString()));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Downloads a snapshot's index file to `indexPath`, and returns its rows. */
  async download(collection: string, pointer: SnapshotPointer, indexPath: string): Promise<SnapshotRows> {
    const keys = snapshotKeys(collection);
    const [index, rows] = await Promise.all([
      this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: keys.index(pointer.id) })),
      this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: keys.rows(pointer.id) })),
    ]);
    await pipeline(index.Body as Readable, createWriteStream(indexPath));
    return snapshotRowsSchema.parse(JSON.parse(await rows.Body!.transformToString()));
  }

  /** Uploads a snapshot (the index in parts: it is hundreds of MiB), then points `latest.json` at it. */
  async upload(
    collection: string,
    what: Omit<SnapshotPointer, 'v' | 'createdAt'>,
    indexPath: string,
    rows: SnapshotRows,
  ): Promise<void> {
    const keys = snapshotKeys(collection);
    await new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: keys.index(what.id), Body: createReadStream(indexPath) },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
    }).done();
    // The rows of a million faces are some 30 MB: in parts too (the emulator takes about 11 MiB at once).
    await new Upload({
      client: this.s3,
      params: {
        Bucket: this.bucket,
        Key: keys.rows(what.id),
        Body: JSON.stringify(rows),
        ContentType: 'application/json',
      },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
    }).done();
    const pointer: SnapshotPointer = { v: 1, ...what, createdAt: new Date().toISOString() };
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: keys.latest,
        Body: JSON.stringify(pointer),
        ContentType: 'application/json',
      }),
    );
  }
}
