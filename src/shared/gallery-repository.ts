/**
 * Where the gallery lives: one JSON object in the gallery bucket, replaced whole by each change. A single
 * PutObject is atomic in S3, so a half-written gallery is never read; workers poll its ETag.
 *
 * Changes are read-modify-write, so two writers could each overwrite the other's change. Two guards:
 * - within one process (the web tier's enrollment API), changes run one after another;
 * - across processes, the write is conditional (If-Match on the ETag that was read, If-None-Match: * for the
 *   first gallery), and a writer that lost the race reads again and re-applies its change. AWS S3 enforces
 *   these conditions (since 2024); the fauxqs emulator ignores them, so locally there must be one writer at
 *   a time (the web tier, or `npm run enroll` while nobody enrolls through the API).
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isNotFound } from './aws.js';
import { AppError } from './errors.js';
import { emptyGallery, storedGallerySchema, type StoredGallery } from './gallery.js';
import { OneAtATime } from './one-at-a-time.js';

export const GALLERY_KEY = 'gallery.json';
/** Attempts at a conditional write before giving up with GALLERY_BUSY. */
const MAX_WRITE_ATTEMPTS = 8;

export interface StoredVersion {
  readonly gallery: StoredGallery;
  /** The object's ETag; undefined when no gallery has been stored yet. */
  readonly etag: string | undefined;
}

export class GalleryRepository {
  private readonly changes = new OneAtATime();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** The embedder model's sha256: a gallery from another model is refused, its vectors do not compare. */
    private readonly embedderSha256: string,
  ) {}

  /** The stored gallery's ETag, or undefined when there is none; one cheap HEAD request. */
  async etag(): Promise<string | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: GALLERY_KEY }));
      return head.ETag;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * The stored gallery, or an empty one (version 0) when none is stored. Throws GALLERY_MODEL_MISMATCH when it
   * was made with another embedder, and a ZodError when it is not a gallery of this schema.
   */
  async read(): Promise<StoredVersion> {
    const raw = await this.readRaw();
    if (!raw) return { gallery: emptyGallery(this.embedderSha256), etag: undefined };
    const gallery = storedGallerySchema.parse(raw.json);
    if (gallery.embedderSha256 !== this.embedderSha256) throw new AppError('GALLERY_MODEL_MISMATCH');
    return { gallery, etag: raw.etag };
  }

  /**
   * Applies `edit` to the current gallery and stores the result, retrying on a concurrent change; returns what
   * the edit returned. With `replace`, a stored gallery that cannot be used (another model, an old schema) is
   * overwritten instead of refused: the edit starts from an empty gallery with the next version number.
   */
  update<T extends { gallery: StoredGallery }>(
    edit: (current: StoredGallery) => T,
    options: { replace?: boolean } = {},
  ): Promise<T> {
    return this.changes.run(() => this.applyWithRetry(edit, options.replace ?? false));
  }

  private async applyWithRetry<T extends { gallery: StoredGallery }>(
    edit: (current: StoredGallery) => T,
    replace: boolean,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { gallery, etag } = replace ? await this.readForReplace() : await this.read();
      const result = edit(gallery);
      try {
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: GALLERY_KEY,
            Body: JSON.stringify(storedGallerySchema.parse(result.gallery)),
            ContentType: 'application/json',
            ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
          }),
        );
        return result;
      } catch (err) {
        if (!isLostRace(err)) throw err;
        if (attempt >= MAX_WRITE_ATTEMPTS) throw new AppError('GALLERY_BUSY', { attempts: attempt }, err);
        // Someone else changed it between our read and write: back off a little, read again, redo the edit.
        await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
      }
    }
  }

  private async readForReplace(): Promise<StoredVersion> {
    const raw = await this.readRaw();
    if (!raw) return { gallery: emptyGallery(this.embedderSha256), etag: undefined };
    const parsed = storedGallerySchema.safeParse(raw.json);
    const version = parsed.success ? parsed.data.version : 0;
    return { gallery: { ...emptyGallery(this.embedderSha256), version }, etag: raw.etag };
  }

  private async readRaw(): Promise<{ json: unknown; etag: string | undefined } | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: GALLERY_KEY }));
      return { json: JSON.parse(await object.Body!.transformToString()), etag: object.ETag };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

/** S3 answers a failed condition with 412 PreconditionFailed, and a simultaneous conditional write with 409. */
function isLostRace(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return status === 412 || status === 409;
}
