/**
 * The emulator's objects on disk, as fauxqs's file store lays them out (data-dir.ts): each object is
 * `<key as path>.data` (its bytes) and `<key as path>.meta.json` (its metadata, the key among it), the key's
 * slashes becoming directories and `<>:"|?*\%` and control characters percent-encoded.
 *
 * Two things that layout does not do on its own, done here:
 * - **Long names.** A file name holds at most 255 bytes, and an S3 key segment may hold 1024 (a 150-character
 *   CJK file name is 450). A segment too long for a file name is stored under a shortened name that ends in a
 *   hash of the whole segment; the metadata keeps the real key, so the object loads back under it.
 * - **Crashes.** An object is written as two files, one after the other, so a kill -9 can leave half of one.
 *   Before loading, every object is checked (metadata readable, bytes present and of the recorded length), and
 *   one that fails is moved under `damaged/` rather than stopping the emulator or serving a torn object.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** fauxqs's file store: its constructor and the methods through which keys reach the file system. */
export interface FileStore {
  upsertObject(bucket: string, obj: { key: string }): void;
  deleteObject(bucket: string, key: string): void;
  readBody(bucket: string, key: string): Buffer;
  renameObject(bucket: string, sourceKey: string, destKey: string): void;
  loadS3(s3Store: unknown): void;
  close(): void;
}
export type FileStoreClass = new (baseDir: string) => FileStore;

const META = '.meta.json';
const DATA = '.data';
/** Bytes a stored segment may take before its suffix: a file name holds 255, `.meta.json` is 10. */
const MAX_SEGMENT_BYTES = 240;
/** Bytes of a long segment kept readable at the front of its shortened name. */
const KEPT_PREFIX_BYTES = 160;

/** fauxqs's percent-encoding of one key segment, to measure the file name it becomes. */
function encodedSegment(segment: string): string {
  // eslint-disable-next-line no-control-regex
  return segment.replace(/[<>:"|?*\\%\x00-\x1f]/g, (ch) => `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The key under which an object's files are named: the key itself, unless a segment is too long for a file. */
export function fileKey(key: string): string {
  return key
    .split('/')
    .map((segment) => {
      if (Buffer.byteLength(encodedSegment(segment)) <= MAX_SEGMENT_BYTES) return segment;
      const hash = createHash('sha256').update(segment).digest('hex').slice(0, 16);
      let kept = '';
      for (const ch of segment) {
        if (Buffer.byteLength(encodedSegment(kept + ch)) > KEPT_PREFIX_BYTES) break;
        kept += ch;
      }
      return `${kept}~${hash}`;
    })
    .join('/');
}

/** fauxqs's file store, with long key segments stored under shortened file names (see above). */
export function withShortFileNames(Base: FileStoreClass): FileStoreClass {
  return class extends Base {
    override upsertObject(bucket: string, obj: { key: string }): void {
      const stored = fileKey(obj.key);
      if (stored === obj.key) return super.upsertObject(bucket, obj);
      super.upsertObject(bucket, { ...obj, key: stored });
      this.keepRealKey(bucket, stored, obj.key);
    }
    override deleteObject(bucket: string, key: string): void {
      super.deleteObject(bucket, fileKey(key));
    }
    override readBody(bucket: string, key: string): Buffer {
      return super.readBody(bucket, fileKey(key));
    }
    override renameObject(bucket: string, sourceKey: string, destKey: string): void {
      const stored = fileKey(destKey);
      super.renameObject(bucket, fileKey(sourceKey), stored);
      if (stored !== destKey) this.keepRealKey(bucket, stored, destKey);
    }
    /** The metadata names the stored key; it must name the real one, under which the object loads back. */
    private keepRealKey(bucket: string, stored: string, key: string): void {
      const path = join(objectsDir(this.baseDirOf(), bucket), encodedPath(stored) + META);
      const meta = JSON.parse(readFileSync(path, 'utf8')) as { key: string };
      writeFileSync(path, JSON.stringify({ ...meta, key }));
    }
    private baseDirOf(): string {
      return (this as unknown as { baseDir: string }).baseDir;
    }
  };
}

function objectsDir(s3Dir: string, bucket: string): string {
  return join(s3Dir, 'buckets', bucket, 'objects');
}

function encodedPath(key: string): string {
  return key.split('/').map(encodedSegment).join('/');
}

export interface DamagedObject {
  readonly bucket: string;
  /** The object's path under the bucket's `objects/`, as stored. */
  readonly path: string;
  readonly problem: string;
  /** Where its files were moved. */
  readonly movedTo: string;
}

/**
 * Moves every object whose files a crash left incomplete from `s3Dir` to `damagedDir`, and returns them. An
 * object is whole when its metadata parses and its bytes exist with the recorded length; bytes without
 * metadata (a crash between the two writes of a new object) are moved too.
 */
export function setAsideDamagedObjects(s3Dir: string, damagedDir: string): DamagedObject[] {
  const bucketsDir = join(s3Dir, 'buckets');
  if (!existsSync(bucketsDir)) return [];
  const damaged: DamagedObject[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const bucket of readdirSync(bucketsDir)) {
    const root = objectsDir(s3Dir, bucket);
    if (!existsSync(root)) continue;
    for (const file of walk(root)) {
      if (!existsSync(file)) continue; // moved already, with the other half of its object
      let base: string;
      if (file.endsWith(META)) base = file.slice(0, -META.length);
      else if (file.endsWith(DATA)) base = file.slice(0, -DATA.length);
      else continue;
      const problem = file.endsWith(META) ? metaProblem(base) : existsSync(base + META) ? undefined : 'no metadata';
      if (!problem) continue;
      const path = relative(root, base);
      const movedTo = join(damagedDir, stamp, bucket, path);
      mkdirSync(dirname(movedTo), { recursive: true });
      for (const suffix of [META, DATA]) {
        if (existsSync(base + suffix)) renameSync(base + suffix, movedTo + suffix);
      }
      damaged.push({ bucket, path, problem, movedTo });
    }
  }
  return damaged;
}

function metaProblem(base: string): string | undefined {
  let meta: { contentLength?: unknown };
  try {
    meta = JSON.parse(readFileSync(base + META, 'utf8')) as { contentLength?: unknown };
  } catch {
    return 'unreadable metadata';
  }
  if (!existsSync(base + DATA)) return 'no data';
  const size = statSync(base + DATA).size;
  if (typeof meta.contentLength === 'number' && size !== meta.contentLength) {
    return `${size} bytes where the metadata records ${meta.contentLength}`;
  }
  return undefined;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** Objects per bucket in `s3Dir`, counted from their metadata files (for `--fresh` and the start summary). */
export function countObjects(s3Dir: string): Map<string, number> {
  const counts = new Map<string, number>();
  const bucketsDir = join(s3Dir, 'buckets');
  if (!existsSync(bucketsDir)) return counts;
  for (const bucket of readdirSync(bucketsDir)) {
    const root = objectsDir(s3Dir, bucket);
    let n = 0;
    if (existsSync(root)) for (const file of walk(root)) if (file.endsWith(META)) n++;
    counts.set(bucket, n);
  }
  return counts;
}
