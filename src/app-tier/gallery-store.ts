/**
 * Where the gallery lives: one JSON object in the gallery bucket. Enrollment replaces it with a single
 * PutObject (atomic in S3, so a half-written gallery is never read); workers poll its ETag and load a new one
 * without a restart.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../shared/logger.js';
import { Gallery } from './recognition/gallery.js';

export const GALLERY_KEY = 'gallery.json';

export async function saveGallery(s3: S3Client, bucket: string, gallery: Gallery): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: GALLERY_KEY,
      Body: JSON.stringify(gallery.toStored()),
      ContentType: 'application/json',
    }),
  );
}

/** Reads the stored gallery; `undefined` when none has been enrolled yet. */
export async function loadGallery(
  s3: S3Client,
  bucket: string,
): Promise<{ gallery: Gallery; etag: string } | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: GALLERY_KEY }));
    const gallery = Gallery.parse(JSON.parse(await object.Body!.transformToString()));
    return { gallery, etag: object.ETag ?? '' };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export class GalleryStore {
  private gallery: Gallery | undefined;
  private etag: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly embedderSha256: string,
    private readonly logger: Logger,
  ) {}

  current(): Gallery | undefined {
    return this.gallery;
  }

  /** Loads the gallery if its ETag changed. Errors are logged and the previous gallery kept. */
  async refresh(): Promise<void> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: GALLERY_KEY }));
      if (head.ETag && head.ETag === this.etag) return;
      const loaded = await loadGallery(this.s3, this.bucket);
      if (!loaded) return;
      if (loaded.gallery.embedderSha256 !== this.embedderSha256) {
        this.logger.error(
          { stored: loaded.gallery.embedderSha256, ours: this.embedderSha256 },
          'the stored gallery was made with another embedder model; re-enroll it (npm run enroll)',
        );
        this.etag = loaded.etag;
        return;
      }
      this.gallery = loaded.gallery;
      this.etag = loaded.etag;
      this.logger.info({ faces: loaded.gallery.size, people: loaded.gallery.people.length }, 'gallery loaded');
    } catch (err) {
      if (isNotFound(err)) {
        if (this.gallery) this.logger.warn('the gallery was deleted; keeping the one in memory');
        return;
      }
      this.logger.error({ err }, 'could not refresh the gallery; keeping the current one');
    }
  }

  async start(intervalSeconds: number): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
