/**
 * The emulator's objects on disk, as fauxqs's file store lays them out (data-dir.ts): each object is
 * `<key as path>.data` (its bytes) and `<key as path>.meta.json` (its metadata, the key among it), the key's
 * slashes becoming directories and `<>:"|?*\%` and control characters percent-encoded.
 *
 * Three things that file store does not do on its own, done here:
 * - **Long names.** A file name holds at most 255 bytes, and an S3 key segment may hold 1024 (a 150-character
 *   CJK file name is 450). A segment too long for a file name is stored under a shortened name that ends in a
 *   hash of the whole segment; the metadata keeps the real key, so the object loads back under it.
 * - **Whole writes.** The store writes an object's two files in place, one after the other, so a kill -9 in
 *   between would leave neither the old object nor the new (the gallery, say). Here each write goes to a staged
 *   pair of files first, which are then renamed over the object's, bytes first. At the next start a staged pair
 *   whose bytes were not yet renamed is dropped (the old object stands; its PutObject was never answered), and
 *   one whose bytes were is finished by renaming its metadata too.
 * - **Anything else torn** (an object whose metadata does not parse, whose bytes are missing or not of the
 *   recorded length) is moved under `damaged/` before loading, rather than stopping the emulator or serving it.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
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
/** Appended to an object's stored key while its new files are written. */
const STAGED = '~staged~';
/** Bytes a stored segment may take before its suffixes: a file name holds 255; `~staged~.meta.json` is 18. */
const MAX_SEGMENT_BYTES = 230;
/** Bytes of a long segment kept readable at the front of its shortened name. */
const KEPT_PREFIX_BYTES = 160;

/** fauxqs's percent-encoding of one key segment, to measure the file name it becomes. */
function encodedSegment(segment: string): string {
  // eslint-disable-next-line no-control-regex
  return segment.replace(/[<>:"|?*\\%\x00-\x1f]/g, (ch) => `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function encodedPath(key: string): string {
  return key.split('/').map(encodedSegment).join('/');
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

function objectsDir(s3Dir: string, bucket: string): string {
  return join(s3Dir, 'buckets', bucket, 'objects');
}

/** fauxqs's file store, with shortened long names and whole writes (see above). */
export function withWholeObjectFiles(Base: FileStoreClass): FileStoreClass {
  return class extends Base {
    override upsertObject(bucket: string, obj: { key: string }): void {
      const stored = fileKey(obj.key);
      super.upsertObject(bucket, { ...obj, key: stored + STAGED });
      const base = join(objectsDir(this.s3Dir(), bucket), encodedPath(stored));
      const staged = base + STAGED;
      setMetaKey(staged + META, obj.key);
      renameSync(staged + DATA, base + DATA);
      renameSync(staged + META, base + META);
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
      if (stored !== destKey) setMetaKey(join(objectsDir(this.s3Dir(), bucket), encodedPath(stored)) + META, destKey);
    }
    private s3Dir(): string {
      return (this as unknown as { baseDir: string }).baseDir;
    }
  };
}

/** Makes an object's metadata name its real key, under which it loads back (not the key its files are named by). */
function setMetaKey(metaPath: string, key: string): void {
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { key: string };
  writeFileSync(metaPath, JSON.stringify({ ...meta, key }));
}

export interface DamagedObject {
  readonly bucket: string;
  /** The object's path under the bucket's `objects/`, as stored. */
  readonly path: string;
  readonly problem: string;
  /** Where its files were moved. */
  readonly movedTo: string;
}

export interface Recovery {
  /** Writes interrupted after the object's bytes were in place, finished: bucket/path. */
  readonly finished: string[];
  /** Writes interrupted before, dropped (the object is as it was before them): bucket/path. */
  readonly dropped: string[];
  readonly damaged: DamagedObject[];
}

/**
 * Makes the object files in `s3Dir` loadable after a crash: finishes or drops interrupted writes, rewrites a
 * torn bucket record, and moves every object that is still not whole to `damagedDir`. Run it before loading.
 */
export function recoverObjectFiles(s3Dir: string, damagedDir: string): Recovery {
  const recovery: Recovery = { finished: [], dropped: [], damaged: [] };
  const bucketsDir = join(s3Dir, 'buckets');
  if (!existsSync(bucketsDir)) return recovery;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const bucket of readdirSync(bucketsDir)) {
    repairBucketRecord(join(bucketsDir, bucket), bucket);
    const root = objectsDir(s3Dir, bucket);
    if (!existsSync(root)) continue;
    const files = [...walk(root)];
    for (const file of files.filter((f) => f.endsWith(STAGED + META) || f.endsWith(STAGED + DATA))) {
      if (!existsSync(file)) continue;
      const staged = file.slice(0, file.lastIndexOf(STAGED) + STAGED.length);
      const base = staged.slice(0, -STAGED.length);
      const name = `${bucket}/${relative(root, base)}`;
      if (existsSync(staged + DATA) || !existsSync(staged + META) || metaProblem(staged + META, base + DATA)) {
        for (const suffix of [DATA, META]) if (existsSync(staged + suffix)) unlinkSync(staged + suffix);
        recovery.dropped.push(name);
      } else {
        renameSync(staged + META, base + META);
        recovery.finished.push(name);
      }
    }
    // The same listing: staged files are gone by now, and so is anything moved with the other half of its object.
    for (const file of files) {
      if (!existsSync(file)) continue;
      const suffix = file.endsWith(META) ? META : file.endsWith(DATA) ? DATA : undefined;
      if (!suffix) continue;
      const base = file.slice(0, -suffix.length);
      const problem =
        suffix === META ? metaProblem(file, base + DATA) : existsSync(base + META) ? undefined : 'no metadata';
      if (!problem) continue;
      const path = relative(root, base);
      const movedTo = join(damagedDir, stamp, bucket, path);
      mkdirSync(dirname(movedTo), { recursive: true });
      for (const s of [META, DATA]) if (existsSync(base + s)) renameSync(base + s, movedTo + s);
      recovery.damaged.push({ bucket, path, problem, movedTo });
    }
  }
  return recovery;
}

/** A bucket whose record a crash tore is written again: its name is its directory's. */
function repairBucketRecord(bucketDir: string, bucket: string): void {
  const path = join(bucketDir, '.bucket.json');
  try {
    JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    writeFileSync(
      path,
      JSON.stringify({ name: bucket, creationDate: new Date().toISOString(), type: 'general-purpose' }),
    );
  }
}

function metaProblem(metaPath: string, dataPath: string): string | undefined {
  let meta: { contentLength?: unknown };
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { contentLength?: unknown };
  } catch {
    return 'unreadable metadata';
  }
  if (!existsSync(dataPath)) return 'no data';
  const size = statSync(dataPath).size;
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

/** Objects per bucket in `s3Dir`, counted from their metadata files (for `--fresh`). */
export function countObjects(s3Dir: string): Map<string, number> {
  const counts = new Map<string, number>();
  const bucketsDir = join(s3Dir, 'buckets');
  if (!existsSync(bucketsDir)) return counts;
  for (const bucket of readdirSync(bucketsDir)) {
    const root = objectsDir(s3Dir, bucket);
    let n = 0;
    if (existsSync(root)) for (const file of walk(root)) if (file.endsWith(META) && !file.endsWith(STAGED + META)) n++;
    counts.set(bucket, n);
  }
  return counts;
}

/** The staged files of a write of `key` while it is in progress (what a crash in its middle leaves). */
export function stagedFiles(s3Dir: string, bucket: string, key: string): { data: string; meta: string } {
  const staged = join(objectsDir(s3Dir, bucket), encodedPath(fileKey(key))) + STAGED;
  return { data: staged + DATA, meta: staged + META };
}
