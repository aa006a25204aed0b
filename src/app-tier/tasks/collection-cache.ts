/**
 * The collections a worker has been asked about, in memory: each loaded at its first request, then kept
 * current by polling its manifest's ETag every GALLERY_REFRESH_SECONDS and reading only the segments added
 * since (a compaction of segments it holds costs no read). Collections nobody asks about are never loaded;
 * past `maxFaces` faces in memory the least recently used collection is dropped (and said so).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IndexSnapshots } from '../../shared/collections/index-snapshots.js';
import { catchUp, newEntryId, type Manifest } from '../../shared/collections/manifest.js';
import type { CollectionRepository } from '../../shared/collections/repository.js';
import { AppError } from '../../shared/wire/errors.js';
import type { Logger } from '../../shared/logger.js';
import { OneAtATime } from '../../shared/one-at-a-time.js';
import { PollLoop } from '../../shared/poll-loop.js';
import { FaceMatcher, type MatcherOptions } from '../recognition/face-matcher.js';

export interface CollectionCacheOptions extends MatcherOptions {
  /** Faces held in memory over every collection before the least recently used is dropped. */
  readonly maxFaces: number;
  /**
   * Where indexes are stored beside their collection: read instead of building one, and written after this
   * worker built one. Undefined: every index is built.
   */
  readonly snapshots?: IndexSnapshots;
}

/** Segments read ahead of the one being applied. */
const PREFETCH_SEGMENTS = 3;

/** A snapshot behind the collection by more than this share of its faces is replaced by a fresh one. */
const SNAPSHOT_STALE_SHARE = 0.1;

interface Loaded {
  matcher: FaceMatcher;
  etag: string;
  ids: string[];
  /** Bytes read from S3 for this collection since it was loaded. */
  bytesRead: number;
  /** Whether its index was read from beside the collection rather than built. */
  fromStoredIndex?: boolean;
}

export class CollectionCache {
  /** In order of use, least recent first. */
  private readonly loaded = new Map<string, Loaded>();
  private readonly loading = new Map<string, Promise<Loaded | undefined>>();
  /** Per collection: a catch-up and the saving of its index never interleave. */
  private readonly turns = new Map<string, OneAtATime>();
  private loop: PollLoop | undefined;
  private checked = false;

  constructor(
    private readonly repository: CollectionRepository,
    private readonly logger: Logger,
    private readonly options: CollectionCacheOptions,
  ) {}

  /** True once S3 has answered at least once, whether or not a collection is stored there. */
  get ready(): boolean {
    return this.checked;
  }

  /** The collection's matcher, loaded if it is not in memory; undefined when there is no such collection. */
  async get(collection: string): Promise<FaceMatcher | undefined> {
    const held = this.loaded.get(collection);
    if (held) {
      this.loaded.delete(collection);
      this.loaded.set(collection, held);
      return held.matcher;
    }
    let pending = this.loading.get(collection);
    if (!pending) {
      pending = this.load(collection).finally(() => this.loading.delete(collection));
      this.loading.set(collection, pending);
    }
    return (await pending)?.matcher;
  }

  /** The matcher in memory for `collection`, without loading it. */
  peek(collection: string): FaceMatcher | undefined {
    return this.loaded.get(collection)?.matcher;
  }

  /** What is in memory: each collection's version and faces. */
  summary(): {
    collection: string;
    version: number;
    faces: number;
    indexed: boolean;
    bytesRead: number;
    fromStoredIndex: boolean;
  }[] {
    return [...this.loaded].map(([collection, l]) => ({
      collection,
      version: l.matcher.version,
      faces: l.matcher.size,
      indexed: l.matcher.indexed,
      bytesRead: l.bytesRead,
      fromStoredIndex: l.fromStoredIndex ?? false,
    }));
  }

  /** Brings every loaded collection up to date. Errors are logged and the collection in memory kept. */
  async refresh(): Promise<void> {
    for (const [collection, held] of [...this.loaded]) {
      try {
        const etag = await this.repository.etag(collection);
        this.checked = true;
        if (etag === undefined) {
          this.loaded.delete(collection);
          this.logger.info({ collection }, 'collection deleted; dropped from memory');
          continue;
        }
        if (etag === held.etag) continue;
        const stored = await this.repository.manifest(collection);
        if (!stored) continue;
        await this.turn(collection).run(() => this.catchUp(collection, held, stored.manifest, stored.etag));
      } catch (err) {
        this.logger.error({ err, collection }, 'could not refresh the collection; keeping the one in memory');
      }
    }
  }

  /** Reads `initial` (the default collection), then looks for changes every `intervalSeconds` until stopped. */
  async start(intervalSeconds: number, initial: string): Promise<void> {
    await this.get(initial).catch((err: unknown) => this.logger.error({ err }, 'could not read the collection'));
    this.loop = new PollLoop({
      // refresh() logs and keeps what it holds on any failure: it never throws.
      round: () => this.refresh(),
      intervalMs: intervalSeconds * 1000,
      pauseFirst: true,
      backoffMs: () => intervalSeconds * 1000,
      onError: (err) => this.logger.error({ err }, 'collection refresh failed'),
      abortRoundOnStop: false,
    });
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  private async load(collection: string): Promise<Loaded | undefined> {
    const started = performance.now();
    const stored = await this.repository.manifest(collection);
    this.checked = true;
    if (!stored) return undefined;
    const loaded: Loaded = { matcher: new FaceMatcher(this.options), etag: '', ids: [], bytesRead: 0 };
    const snapshot =
      this.options.snapshots && stored.manifest.faces >= this.options.indexMinFaces
        ? await this.restore(collection, stored.manifest).catch((err: unknown) => {
            this.logger.warn({ err, collection }, 'could not read the stored index; building it');
            return undefined;
          })
        : undefined;
    if (snapshot) {
      loaded.matcher = snapshot.matcher;
      loaded.ids = snapshot.entries;
      loaded.bytesRead += snapshot.bytes;
      loaded.fromStoredIndex = true;
    }
    await this.catchUp(collection, loaded, stored.manifest, stored.etag);
    this.loaded.set(collection, loaded);
    const stale = snapshot && loaded.matcher.size - snapshot.faces > SNAPSHOT_STALE_SHARE * snapshot.faces;
    if (this.options.snapshots && loaded.matcher.indexed && (!snapshot || stale)) {
      // In the background: the collection answers meanwhile. A worker without the right to write is said so.
      void this.publish(collection, loaded, stored.manifest.version);
    }
    this.logger.info(
      {
        collection,
        version: loaded.matcher.version,
        faces: loaded.matcher.size,
        people: loaded.matcher.people,
        indexed: loaded.matcher.indexed,
        fromStoredIndex: snapshot !== undefined,
        ms: Math.round(performance.now() - started),
      },
      'collection loaded',
    );
    this.evict(collection);
    return loaded;
  }

  /** The stored index, when it holds entries this manifest still has (compacted or not). */
  private async restore(collection: string, manifest: Manifest) {
    const pointer = await this.options.snapshots!.latest(collection);
    if (!pointer || catchUp(pointer.entries, manifest).kind !== 'append') return undefined;
    const dir = await mkdtemp(join(tmpdir(), 'facefleet-index-'));
    try {
      const path = join(dir, 'index.usearch');
      const rows = await this.options.snapshots!.download(collection, pointer, path);
      const matcher = FaceMatcher.restoreSnapshot(this.options, rows, path);
      return { matcher, entries: pointer.entries, faces: pointer.faces, bytes: pointer.bytes };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Stores this worker's index of `collection` beside it, for the workers that load it next. */
  private async publish(collection: string, held: Loaded, version: number): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'facefleet-index-'));
    try {
      const path = join(dir, 'index.usearch');
      // The rows, the index and the entries they hold, taken together between two catch-ups.
      const { entries, faces, rows } = await this.turn(collection).run(async () => ({
        entries: [...held.ids],
        faces: held.matcher.size,
        rows: held.matcher.saveSnapshot(path),
      }));
      const { size } = await stat(path);
      const id = newEntryId(version);
      await this.options.snapshots!.upload(collection, { id, version, entries, faces, bytes: size }, path, rows);
      this.logger.info({ collection, version, faces, bytes: size }, 'index stored beside the collection');
    } catch (err) {
      this.logger.warn(
        { err, collection },
        'could not store the index beside the collection; the next worker builds it',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Applies what changed since `held` was read; a change it cannot append is a reload beside the old copy. */
  private async catchUp(collection: string, held: Loaded, manifest: Manifest, etag: string): Promise<void> {
    let plan = catchUp(held.ids, manifest);
    // Entries it holds were merged with ones it never read: their faces go, and come back with the merge. A
    // replaced segment is kept an hour for this; one already swept means reading everything.
    let dropped: string[] = [];
    if (plan.kind === 'append' && plan.drop.length > 0) {
      const faceIds = await this.repository.droppedFaceIds(collection, plan.drop);
      if (faceIds === undefined) plan = { kind: 'reload' };
      else dropped = faceIds;
    }
    const target = plan.kind === 'append' ? held : { ...held, matcher: new FaceMatcher(this.options), ids: [] };
    const entries = plan.kind === 'append' ? plan.entries : manifest.entries;
    // Segments are fetched a few ahead and applied in the manifest's order, each let go once applied: a
    // million faces never sit in memory twice.
    const fetch = (entry: (typeof entries)[number]) => {
      const read = Promise.all([
        this.repository.segmentMeta(collection, entry.id),
        entry.kind === 'faces' ? this.repository.segmentVectors(collection, entry.id) : undefined,
      ]);
      // Awaited in turn below; one read ahead of a failure is never awaited, and must not be unhandled.
      read.catch(() => undefined);
      return read;
    };
    const ahead: ReturnType<typeof fetch>[] = [];
    for (let i = 0; i < Math.min(PREFETCH_SEGMENTS, entries.length); i++) ahead.push(fetch(entries[i]!));
    for (let i = 0; i < entries.length; i++) {
      const [meta, vectors] = await ahead.shift()!;
      if (i + PREFETCH_SEGMENTS < entries.length) ahead.push(fetch(entries[i + PREFETCH_SEGMENTS]!));
      if (meta.kind === 'faces') await target.matcher.add(meta.faces, vectors!);
      else target.matcher.remove(meta.faceIds);
      held.bytesRead += entries[i]!.bytes;
    }
    // The dropped faces go only now that the merge holds them again: removed first, a request answered during
    // the segments' reads saw a collection without them (nobody, when they were everyone: GALLERY_EMPTY). A face
    // in both is held twice meanwhile, which changes no answer; remove() takes each id's first row, the old one.
    held.matcher.remove(dropped);
    held.matcher = target.matcher;
    held.matcher.version = manifest.version;
    held.ids = manifest.entries.map((e) => e.id);
    held.etag = etag;
    if (entries.length > 0 && held.ids.length > 0 && this.loaded.has(collection)) {
      this.logger.info(
        {
          collection,
          version: manifest.version,
          segments: entries.length,
          faces: held.matcher.size,
          reload: plan.kind === 'reload',
        },
        'collection updated',
      );
    }
  }

  private turn(collection: string): OneAtATime {
    let turn = this.turns.get(collection);
    if (!turn) {
      turn = new OneAtATime();
      this.turns.set(collection, turn);
    }
    return turn;
  }

  private evict(keep: string): void {
    let faces = [...this.loaded.values()].reduce((n, l) => n + l.matcher.size, 0);
    for (const [collection, held] of this.loaded) {
      if (faces <= this.options.maxFaces || collection === keep) continue;
      this.loaded.delete(collection);
      this.turns.delete(collection);
      faces -= held.matcher.size;
      this.logger.info(
        { collection, faces: held.matcher.size, maxFaces: this.options.maxFaces },
        'collection dropped from memory (least recently used, over GALLERY_MAX_FACES_IN_MEMORY)',
      );
    }
  }
}

/**
 * The collection to match against: GALLERY_EMPTY when it is the default one and nobody is enrolled yet,
 * COLLECTION_NOT_FOUND for another that does not exist.
 */
export async function matcherFor(
  cache: Pick<CollectionCache, 'get'>,
  collection: string,
  defaultCollection: string,
): Promise<FaceMatcher> {
  const matcher = await cache.get(collection);
  if (!matcher && collection !== defaultCollection) throw new AppError('COLLECTION_NOT_FOUND', { name: collection });
  if (!matcher || matcher.size === 0) {
    if (collection === defaultCollection) throw new AppError('GALLERY_EMPTY');
    throw new AppError('COLLECTION_EMPTY', { name: collection });
  }
  return matcher;
}
