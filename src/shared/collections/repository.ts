/**
 * Where collections live: under `collections/<name>/` in the gallery bucket, a manifest and its immutable
 * segments (manifest.ts, segment.ts, vectors.ts). A change writes its new segment first and then swaps the
 * manifest with a conditional write (If-Match on the ETag that was read, If-None-Match: * for a new
 * collection): a crash before the swap leaves the previous version whole, with an unreferenced segment that
 * `sweepOrphans` deletes later; a writer that lost the race reads the new version and plans its change again.
 * AWS S3 enforces these conditions (since 2024); the fauxqs emulator ignores them, so locally one writer at a
 * time changes a collection (the web tier, or `npm run enroll` while nobody enrolls through the API). Within
 * one process, changes run one after another.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isNotFound } from '../aws/clients.js';
import { AppError } from '../wire/errors.js';
import { EMBEDDING_DIMENSIONS, type NewFace } from './names-and-faces.js';
import { OneAtATime } from '../one-at-a-time.js';
import { deleteKeys, listObjects } from '../aws/s3-objects.js';
import {
  appendEntries,
  catchUp,
  collectionBytes,
  compactionRun,
  DEFAULT_COLLECTION,
  emptyManifest,
  manifestSchema,
  newEntryId,
  replaceRun,
  type CompactionOptions,
  type Manifest,
  type ManifestEntry,
} from './manifest.js';
import { collectionKeys, COLLECTIONS_PREFIX, segmentMetaSchema, type FaceMeta, type SegmentMeta } from './segment.js';
import { IndexSnapshots, snapshotKeys } from './index-snapshots.js';
import { CollectionView } from './view.js';
import { concatVectors, decodeVectors, encodeVectors, quantize, selectRows, type QuantizedVectors } from './vectors.js';

/**
 * Faces in one segment at most: 8.4 MB of vectors. The S3 emulator takes at most about 11 MiB in one
 * PutObject, and a worker reads a segment whole; S3 itself would take 5 GB.
 */
export const MAX_SEGMENT_FACES = 16_384;
/** Attempts at a conditional write before giving up with GALLERY_BUSY. */
const MAX_WRITE_ATTEMPTS = 8;
/** A compaction merges the small segments at the end of the list once there are this many. */
export const DEFAULT_COMPACTION: CompactionOptions = { smallCount: 10_000, minEntries: 8 };
/**
 * Segments no manifest lists are deleted once older than this: a worker that read the manifest before a
 * compaction may still be reading the segments it replaced, and a writer may be between its two steps.
 */
const ORPHAN_MIN_AGE_MS = 3_600_000;

export interface StoredManifest {
  readonly manifest: Manifest;
  readonly etag: string;
}

/** A change to one collection, as an enrollment or a removal plans it from the current view. */
export interface Change<T> {
  /** Faces to add, with their vectors (unit length, `EMBEDDING_DIMENSIONS` each). */
  readonly add?: readonly (FaceMeta & { readonly embedding: Float32Array })[];
  /** Face ids to remove from the faces before. */
  readonly remove?: readonly string[];
  /** What the caller gets back, with the new version. */
  readonly result: T;
}

export interface CollectionDescription {
  readonly name: string;
  readonly version: number;
  readonly people: number;
  readonly faces: number;
  readonly bytes: number;
  readonly segments: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface Cached {
  manifest: Manifest;
  etag: string;
  view: CollectionView;
  ids: string[];
}

export class CollectionRepository {
  private readonly changes = new OneAtATime();
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** The embedder model's sha256: a collection from another model is refused, its vectors do not compare. */
    private readonly embedderSha256: string,
    private readonly compaction: CompactionOptions = DEFAULT_COMPACTION,
  ) {}

  /** The manifest's ETag, or undefined when the collection does not exist; one cheap HEAD request. */
  async etag(collection: string): Promise<string | undefined> {
    try {
      const head = await this.s3.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: collectionKeys(collection).manifest }),
      );
      return head.ETag;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The stored manifest, or undefined when there is no such collection. Throws GALLERY_MODEL_MISMATCH. */
  async manifest(collection: string): Promise<StoredManifest | undefined> {
    let object;
    try {
      object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: collectionKeys(collection).manifest }),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const manifest = manifestSchema.parse(JSON.parse(await object.Body!.transformToString()));
    if (manifest.embedderSha256 !== this.embedderSha256) throw new AppError('GALLERY_MODEL_MISMATCH');
    return { manifest, etag: object.ETag! };
  }

  /** A segment's JSON part. */
  async segmentMeta(collection: string, entryId: string): Promise<SegmentMeta> {
    const object = await this.s3.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: collectionKeys(collection).meta(entryId) }),
    );
    return segmentMetaSchema.parse(JSON.parse(await object.Body!.transformToString()));
  }

  /** A faces segment's vectors. */
  async segmentVectors(collection: string, entryId: string): Promise<QuantizedVectors> {
    const object = await this.s3.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: collectionKeys(collection).vectors(entryId) }),
    );
    return decodeVectors(await object.Body!.transformToByteArray());
  }

  /**
   * The face ids of entries a reader holds and a compaction merged with entries it never read (catchUp's
   * `drop`): the reader removes them and reads the merge. Undefined when one of them is gone already (kept an
   * hour after the compaction): the reader must then read the whole collection.
   */
  async droppedFaceIds(collection: string, entryIds: readonly string[]): Promise<string[] | undefined> {
    const metas = await Promise.all(entryIds.map((id) => this.segmentMeta(collection, id).catch(() => undefined)));
    if (metas.some((m) => m === undefined)) return undefined;
    return metas.flatMap((m) => (m!.kind === 'faces' ? m!.faces.map((f) => f.id) : []));
  }

  /** Every collection's name, in order. */
  async names(): Promise<string[]> {
    const names: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: COLLECTIONS_PREFIX,
          Delimiter: '/',
          ContinuationToken,
        }),
      );
      for (const p of page.CommonPrefixes ?? []) names.push(p.Prefix!.slice(COLLECTIONS_PREFIX.length, -1));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return names.sort();
  }

  /**
   * What a collection holds; throws COLLECTION_NOT_FOUND. The default collection always exists: before its
   * first enrollment it is empty.
   */
  async describe(collection: string): Promise<CollectionDescription> {
    const stored = await this.manifest(collection);
    if (stored) return describe(stored.manifest);
    if (collection === DEFAULT_COLLECTION) return describe(emptyManifest(collection, this.embedderSha256));
    throw new AppError('COLLECTION_NOT_FOUND', { name: collection });
  }

  /** Every collection, described; the default one too, empty before its first enrollment. */
  async list(): Promise<CollectionDescription[]> {
    const names = new Set([DEFAULT_COLLECTION, ...(await this.names())]);
    const found = await Promise.all([...names].sort().map((n) => this.describe(n).catch(() => undefined)));
    return found.filter((d) => d !== undefined);
  }

  /** Creates an empty collection; throws COLLECTION_EXISTS. */
  create(collection: string): Promise<CollectionDescription> {
    return this.changes.run(async () => {
      if ((await this.etag(collection)) !== undefined) throw new AppError('COLLECTION_EXISTS', { name: collection });
      const manifest = emptyManifest(collection, this.embedderSha256);
      await this.putManifest(manifest, undefined);
      return describe(manifest);
    });
  }

  /**
   * Deletes a collection: its manifest first (from then on it does not exist for anyone), then its segments.
   * Returns the in-bucket photo keys its faces used. Throws COLLECTION_NOT_FOUND.
   */
  delete(collection: string): Promise<{ description: CollectionDescription; sourceKeys: string[] }> {
    return this.changes.run(async () => {
      const { manifest, view } = await this.current(collection);
      const keys = collectionKeys(collection);
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys.manifest }));
      this.cache.delete(collection);
      for await (const page of listObjects(this.s3, this.bucket, keys.base)) {
        await deleteKeys(
          this.s3,
          this.bucket,
          page.flatMap((o) => (o.Key ? [o.Key] : [])),
        );
      }
      return { description: describe(manifest), sourceKeys: [...view.sourceKeys()] };
    });
  }

  /**
   * The collection's manifest and who is in it, brought up to date; throws COLLECTION_NOT_FOUND, but for the
   * default collection, which is empty before its first enrollment.
   */
  read(collection: string): Promise<{ manifest: Manifest; view: CollectionView }> {
    return this.changes.run(() => this.current(collection, collection === DEFAULT_COLLECTION));
  }

  /**
   * Plans a change from the current view and stores it: a new segment (faces, or a tombstone), then the
   * manifest, retried from a fresh read when another writer got there first. With `create`, a collection that
   * does not exist is created by the change (npm run enroll, the default collection's first enrollment).
   */
  change<T>(
    collection: string,
    plan: (view: CollectionView, manifest: Manifest) => Change<T>,
    options: { create?: boolean } = {},
  ): Promise<T & { version: number }> {
    return this.changes.run(async () => {
      for (let attempt = 1; ; attempt++) {
        const state = await this.current(collection, options.create ?? false);
        const change = plan(state.view, state.manifest);
        const written: string[] = [];
        try {
          const entries = await this.writeSegments(collection, state.manifest.version + 1, change, written);
          if (entries.length === 0) return { ...change.result, version: state.manifest.version };
          for (const id of change.remove ?? []) state.view.apply({ kind: 'tombstones', faceIds: [id] });
          if (change.add?.length) state.view.apply({ kind: 'faces', faces: change.add.map(metaOf) });
          const next = appendEntries(state.manifest, entries, {
            faces: state.view.faces,
            people: state.view.peopleCount,
          });
          const etag = await this.putManifest(next, state.etag || undefined);
          this.cache.set(collection, { manifest: next, etag, view: state.view, ids: next.entries.map((e) => e.id) });
          return { ...change.result, version: next.version };
        } catch (err) {
          // The view may hold the change that was not stored: read it again next time.
          this.cache.delete(collection);
          await deleteKeys(this.s3, this.bucket, written).catch(() => undefined);
          if (!isLostRace(err)) throw err;
          if (attempt >= MAX_WRITE_ATTEMPTS) throw new AppError('GALLERY_BUSY', { attempts: attempt }, err);
          await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
        }
      }
    });
  }

  /**
   * Merges the small segments at the end of the list into one, when there are enough of them. The merge reads
   * and writes outside the lock that enrollments take; only the manifest swap is inside it, and it is dropped
   * if the run changed meanwhile. Returns what it did, or undefined when there was nothing to do.
   */
  async compact(collection: string): Promise<{ merged: number; faces: number; ms: number } | undefined> {
    const started = performance.now();
    const stored = await this.manifest(collection);
    if (!stored) return undefined;
    const run = compactionRun(stored.manifest, this.compaction);
    if (!run) return undefined;
    const entries = stored.manifest.entries.slice(run.from);
    // Apply the run in order: faces in, removed ids out; every removed id is kept for the segments before it.
    const faces = new Map<string, { meta: FaceMeta; vectors: QuantizedVectors; row: number }>();
    const removed = new Set<string>();
    for (const entry of entries) {
      const meta = await this.segmentMeta(collection, entry.id);
      if (meta.kind === 'tombstones') {
        for (const id of meta.faceIds) {
          faces.delete(id);
          removed.add(id);
        }
      } else {
        const vectors = await this.segmentVectors(collection, entry.id);
        meta.faces.forEach((face, row) => {
          faces.delete(face.id);
          faces.set(face.id, { meta: face, vectors, row });
        });
      }
    }
    const kept = [...faces.values()];
    const merged: ManifestEntry[] = [];
    const written: string[] = [];
    const version = stored.manifest.version + 1;
    if (run.from > 0 && removed.size > 0) {
      merged.push(await this.writeTombstones(collection, version, [...removed], written));
    }
    if (kept.length > 0) {
      const vectors = concatVectors(kept.map((k) => selectRows(k.vectors, (r) => r === k.row)));
      merged.push(
        await this.writeFaces(
          collection,
          version,
          kept.map((k) => k.meta),
          vectors,
          written,
        ),
      );
    }
    const swapped = await this.changes.run(async () => {
      const current = await this.manifest(collection);
      const next = current && replaceRun(current.manifest, run.ids, merged);
      if (!current || !next) return false;
      try {
        const etag = await this.putManifest(next, current.etag);
        const cached = this.cache.get(collection);
        if (cached && cached.etag === current.etag) {
          this.cache.set(collection, { ...cached, manifest: next, etag, ids: next.entries.map((e) => e.id) });
        }
        return true;
      } catch (err) {
        if (isLostRace(err)) return false;
        throw err;
      }
    });
    if (!swapped) {
      await deleteKeys(this.s3, this.bucket, written).catch(() => undefined);
      return undefined;
    }
    return { merged: entries.length, faces: kept.length, ms: Math.round(performance.now() - started) };
  }

  /** Deletes the segment objects that no manifest lists and that are older than `minAgeMs`; returns their keys. */
  async sweepOrphans(collection: string, minAgeMs = ORPHAN_MIN_AGE_MS, now = Date.now()): Promise<string[]> {
    const stored = await this.manifest(collection);
    if (!stored) return [];
    const keys = collectionKeys(collection);
    const listed = new Set(stored.manifest.entries.flatMap((e) => [keys.meta(e.id), keys.vectors(e.id)]));
    // The stored index that latest.json names is in use; older ones are not.
    const snapshots = snapshotKeys(collection);
    const pointer = await new IndexSnapshots(this.s3, this.bucket).latest(collection).catch(() => undefined);
    listed.add(snapshots.latest);
    if (pointer) for (const key of [snapshots.index(pointer.id), snapshots.rows(pointer.id)]) listed.add(key);
    const orphans: string[] = [];
    for await (const page of listObjects(this.s3, this.bucket, keys.base)) {
      for (const { Key, LastModified } of page) {
        if (!Key || listed.has(Key) || Key === keys.manifest) continue;
        if (LastModified && now - LastModified.getTime() < minAgeMs) continue;
        orphans.push(Key);
      }
    }
    await deleteKeys(this.s3, this.bucket, orphans);
    return orphans;
  }

  /** The cached state brought up to date with the stored manifest (only new segments are read). */
  private async current(collection: string, create = false): Promise<Cached> {
    const stored = await this.manifest(collection);
    if (!stored) {
      this.cache.delete(collection);
      if (!create) throw new AppError('COLLECTION_NOT_FOUND', { name: collection });
      return {
        manifest: emptyManifest(collection, this.embedderSha256),
        etag: '',
        view: new CollectionView(),
        ids: [],
      };
    }
    const cached = this.cache.get(collection);
    if (cached && cached.etag === stored.etag) return cached;
    try {
      return await this.catchUpTo(collection, stored, cached);
    } catch (err) {
      // A view half brought up to date is not kept.
      this.cache.delete(collection);
      throw err;
    }
  }

  private async catchUpTo(collection: string, stored: StoredManifest, cached: Cached | undefined): Promise<Cached> {
    let plan: ReturnType<typeof catchUp> = cached ? catchUp(cached.ids, stored.manifest) : { kind: 'reload' };
    if (plan.kind === 'append' && plan.drop.length > 0) {
      // Held segments merged with ones not read yet: their faces go, and come back with the merge.
      const faceIds = await this.droppedFaceIds(collection, plan.drop);
      if (faceIds === undefined) plan = { kind: 'reload' };
      else cached!.view.apply({ kind: 'tombstones', faceIds });
    }
    const view = plan.kind === 'append' ? cached!.view : new CollectionView();
    const toRead = plan.kind === 'append' ? plan.entries : stored.manifest.entries;
    // Read a few segments at a time, applied in the manifest's order.
    const metas = await mapLimit(toRead, 8, (e) => this.segmentMeta(collection, e.id));
    for (const meta of metas) view.apply(meta);
    const next = { manifest: stored.manifest, etag: stored.etag, view, ids: stored.manifest.entries.map((e) => e.id) };
    this.cache.set(collection, next);
    return next;
  }

  private async writeSegments(
    collection: string,
    version: number,
    change: Change<unknown>,
    written: string[],
  ): Promise<ManifestEntry[]> {
    const entries: ManifestEntry[] = [];
    if (change.remove?.length) entries.push(await this.writeTombstones(collection, version, change.remove, written));
    for (let i = 0; i < (change.add?.length ?? 0); i += MAX_SEGMENT_FACES) {
      const part = change.add!.slice(i, i + MAX_SEGMENT_FACES);
      const rows = new Float32Array(part.length * EMBEDDING_DIMENSIONS);
      part.forEach((f, j) => rows.set(f.embedding, j * EMBEDDING_DIMENSIONS));
      entries.push(await this.writeFaces(collection, version, part.map(metaOf), quantize(rows), written));
    }
    return entries;
  }

  private async writeTombstones(collection: string, version: number, faceIds: readonly string[], written: string[]) {
    const id = newEntryId(version);
    const body = JSON.stringify({ kind: 'tombstones', faceIds: [...faceIds] } satisfies SegmentMeta);
    await this.put(collectionKeys(collection).meta(id), body, 'application/json', written);
    return { id, kind: 'tombstones' as const, count: faceIds.length, bytes: Buffer.byteLength(body) };
  }

  private async writeFaces(
    collection: string,
    version: number,
    faces: readonly FaceMeta[],
    vectors: QuantizedVectors,
    written: string[],
  ): Promise<ManifestEntry> {
    const id = newEntryId(version);
    const keys = collectionKeys(collection);
    const meta = JSON.stringify({ kind: 'faces', faces: [...faces] } satisfies SegmentMeta);
    const bytes = encodeVectors(vectors);
    await this.put(keys.vectors(id), bytes, 'application/octet-stream', written);
    await this.put(keys.meta(id), meta, 'application/json', written);
    return { id, kind: 'faces', count: faces.length, bytes: bytes.length + Buffer.byteLength(meta) };
  }

  private async put(key: string, body: string | Uint8Array, contentType: string, written: string[]): Promise<void> {
    written.push(key);
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  /** Stores `manifest` if the stored one still has `etag` (or, undefined, if there is none); returns its ETag. */
  private async putManifest(manifest: Manifest, etag: string | undefined): Promise<string> {
    const out = await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: collectionKeys(manifest.collection).manifest,
        Body: JSON.stringify(manifestSchema.parse(manifest)),
        ContentType: 'application/json',
        ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
      }),
    );
    return out.ETag ?? '';
  }
}

export function describe(manifest: Manifest): CollectionDescription {
  return {
    name: manifest.collection,
    version: manifest.version,
    people: manifest.people,
    faces: manifest.faces,
    bytes: collectionBytes(manifest),
    segments: manifest.entries.length,
    createdAt: manifest.createdAt,
    updatedAt: manifest.updatedAt,
  };
}

/** A new face's stored description. */
export function faceToAdd(name: string, face: NewFace, now = new Date()): FaceMeta & { embedding: Float32Array } {
  return {
    id: face.id,
    name,
    addedAt: now.toISOString(),
    ...(face.sourceKey ? { sourceKey: face.sourceKey } : {}),
    embedding: face.embedding,
  };
}

function metaOf(face: FaceMeta): FaceMeta {
  return {
    id: face.id,
    name: face.name,
    addedAt: face.addedAt,
    ...(face.sourceKey ? { sourceKey: face.sourceKey } : {}),
  };
}

/** S3 answers a failed condition with 412 PreconditionFailed, and a simultaneous conditional write with 409. */
function isLostRace(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return status === 412 || status === 409;
}

/** `fn` over `items`, at most `limit` at once, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
