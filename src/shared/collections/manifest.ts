/**
 * A collection's manifest: the one small object that says which segments make the collection now, in order.
 * Segments are immutable; an enrollment appends a `faces` segment, a removal a `tombstones` segment (the face
 * ids it removes from everything before it), and the manifest is swapped with a conditional write, so a
 * reader sees the old list or the new one, never half of either. Compaction replaces a run of small segments
 * at the end with the same faces in fewer, and says which ones it replaced (`compactedFrom`), so that a worker
 * holding them need not read anything. Pure: no I/O here.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../wire/errors.js';
import { EMBEDDING_DIMENSIONS, printable } from './names-and-faces.js';

export const MANIFEST_SCHEMA_VERSION = 1;
/** The collection that `POST /`, `/people` and `npm run enroll` use when none is named. */
export const DEFAULT_COLLECTION = 'default';
export const MAX_COLLECTION_CHARS = 64;
/** Letters, digits, `_`, `.` and `-`, as Rekognition's CollectionId; a name is also a key prefix in S3. */
const COLLECTION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const entrySchema = z.object({
  /** Unique within the collection; the segment's objects are named after it. */
  id: z.string().regex(/^[0-9a-z-]{1,64}$/),
  kind: z.enum(['faces', 'tombstones']),
  /** Faces (or removed face ids) in the segment. */
  count: z.number().int().nonnegative(),
  /** Bytes of the segment's objects together. */
  bytes: z.number().int().nonnegative(),
  /** The entries this one replaced in a compaction: a reader that holds all of them has this one already. */
  compactedFrom: z.array(z.string()).optional(),
});
export type ManifestEntry = z.infer<typeof entrySchema>;

export const manifestSchema = z.object({
  schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
  collection: z.string(),
  /** Increases by one with every change; answers name the version they matched against. */
  version: z.number().int().nonnegative(),
  /** sha256 of the embedder model that made the vectors: vectors from another model do not compare. */
  embedderSha256: z.string().regex(/^[0-9a-f]{64}$/),
  dimensions: z.literal(EMBEDDING_DIMENSIONS),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Faces and people once every entry is applied, kept by the writer for descriptions. */
  faces: z.number().int().nonnegative(),
  people: z.number().int().nonnegative(),
  entries: z.array(entrySchema),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** Throws INVALID_COLLECTION unless `raw` is a collection name. */
export function validateCollectionName(raw: string): string {
  if (!COLLECTION_PATTERN.test(raw)) {
    throw new AppError('INVALID_COLLECTION', { name: printable(raw), max: MAX_COLLECTION_CHARS });
  }
  return raw;
}

export function emptyManifest(collection: string, embedderSha256: string, now = new Date()): Manifest {
  return {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    collection,
    version: 0,
    embedderSha256,
    dimensions: EMBEDDING_DIMENSIONS,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    faces: 0,
    people: 0,
    entries: [],
  };
}

/** A new entry's id: the version it arrives in, then random digits (two writers never pick the same). */
export function newEntryId(version: number): string {
  return `${String(version).padStart(8, '0')}-${randomBytes(4).toString('hex')}`;
}

/** The manifest with `entries` appended, as the next version, with the counts the writer computed. */
export function appendEntries(
  manifest: Manifest,
  entries: readonly ManifestEntry[],
  counts: { faces: number; people: number },
  now = new Date(),
): Manifest {
  return {
    ...manifest,
    ...counts,
    version: manifest.version + 1,
    updatedAt: now.toISOString(),
    entries: [...manifest.entries, ...entries],
  };
}

/** Bytes of every segment the manifest lists. */
export function collectionBytes(manifest: Manifest): number {
  return manifest.entries.reduce((n, e) => n + e.bytes, 0);
}

export interface CompactionOptions {
  /** A segment of fewer entries than this counts as small. */
  readonly smallCount: number;
  /** Compact once this many small segments stand at the end of the list. */
  readonly minEntries: number;
}

/**
 * The run of small entries at the end of the list to merge, or undefined when there are fewer than
 * `minEntries` of them. Only a run at the end is merged: what it removes from earlier segments is then kept as
 * one tombstone segment before the merged faces, so the order of adds and removes keeps its meaning.
 */
export function compactionRun(
  manifest: Manifest,
  options: CompactionOptions,
): { from: number; ids: string[] } | undefined {
  let from = manifest.entries.length;
  while (from > 0 && manifest.entries[from - 1]!.count < options.smallCount) from--;
  const run = manifest.entries.slice(from);
  if (run.length < options.minEntries) return undefined;
  return { from, ids: run.map((e) => e.id) };
}

/**
 * The manifest with the run `ids` (still the last entries, in order) replaced by `merged`. Undefined when the
 * run is no longer there as it was (another writer compacted or the collection was replaced): the compaction
 * is then dropped, never forced.
 */
export function replaceRun(
  manifest: Manifest,
  ids: readonly string[],
  merged: readonly ManifestEntry[],
  now = new Date(),
): Manifest | undefined {
  const from = manifest.entries.findIndex((e) => e.id === ids[0]);
  if (from < 0) return undefined;
  const run = manifest.entries.slice(from, from + ids.length).map((e) => e.id);
  if (run.length !== ids.length || run.some((id, i) => id !== ids[i])) return undefined;
  return {
    ...manifest,
    version: manifest.version + 1,
    updatedAt: now.toISOString(),
    entries: [
      ...manifest.entries.slice(0, from),
      ...merged.map((e) => ({ ...e, compactedFrom: [...ids] })),
      ...manifest.entries.slice(from + ids.length),
    ],
  };
}

/**
 * What a reader that has applied `loaded` (entry ids, in order) must do to be at `manifest`: drop the faces of
 * the entries in `drop` (held entries that a compaction merged with entries the reader never read: the merged
 * segments hold their surviving faces again), then apply `entries` in order; it then holds `ids`. `reload` when
 * the list changed in a way that appending cannot follow (the collection made anew, an entry it holds after
 * one it has not read).
 */
export function catchUp(
  loaded: readonly string[],
  manifest: Manifest,
): { kind: 'append'; drop: string[]; entries: ManifestEntry[]; ids: string[] } | { kind: 'reload' } {
  const held = new Set(loaded);
  const covered = new Set<string>();
  const drop = new Set<string>();
  const entries: ManifestEntry[] = [];
  for (const entry of manifest.entries) {
    if (held.has(entry.id)) {
      if (entries.length > 0) return { kind: 'reload' };
      covered.add(entry.id);
    } else if (entry.compactedFrom && entry.compactedFrom.every((id) => held.has(id))) {
      if (entries.length > 0) return { kind: 'reload' };
      for (const id of entry.compactedFrom) covered.add(id);
    } else {
      // Merged from entries of which the reader holds some: those are dropped and the merge read instead.
      for (const id of entry.compactedFrom ?? []) {
        if (!held.has(id)) continue;
        drop.add(id);
        covered.add(id);
      }
      entries.push(entry);
    }
  }
  if (covered.size !== held.size) return { kind: 'reload' };
  return { kind: 'append', drop: [...drop], entries, ids: manifest.entries.map((e) => e.id) };
}
