/**
 * A worker's copy of the gallery: read at start, then kept current by polling the stored object's ETag, so
 * enrollments reach every worker within GALLERY_REFRESH_SECONDS without a restart.
 */
import { AppError } from '../shared/errors.js';
import type { GalleryRepository } from '../shared/gallery-repository.js';
import type { Logger } from '../shared/logger.js';
import { PollLoop } from '../shared/poll-loop.js';
import { Gallery } from './recognition/gallery.js';

export class GalleryStore {
  private gallery: Gallery | undefined;
  private etag: string | undefined;
  private loop: PollLoop | undefined;
  private checked = false;

  constructor(
    private readonly repository: GalleryRepository,
    private readonly logger: Logger,
  ) {}

  /** The gallery in use; undefined until one is stored. */
  current(): Gallery | undefined {
    return this.gallery;
  }

  /** True once S3 has answered at least once, whether or not a gallery is stored there. */
  get ready(): boolean {
    return this.checked;
  }

  /** Loads the gallery if its ETag changed. Errors are logged and the previous gallery kept. */
  async refresh(): Promise<void> {
    let etag: string | undefined;
    try {
      etag = await this.repository.etag();
      if (etag === undefined) {
        if (this.gallery) this.logger.warn('the gallery was deleted; keeping the one in memory');
        this.checked = true;
        return;
      }
      if (etag === this.etag) return;
      const { gallery, etag: readEtag } = await this.repository.read();
      this.gallery = Gallery.fromStored(gallery);
      this.etag = readEtag;
      this.checked = true;
      this.logger.info(
        { version: gallery.version, faces: this.gallery.size, people: this.gallery.people },
        'gallery loaded',
      );
    } catch (err) {
      if (err instanceof AppError && err.code === 'GALLERY_MODEL_MISMATCH') {
        // Say it once per stored version, not at every refresh.
        this.etag = etag;
        this.checked = true;
        this.logger.error(err.message);
      } else {
        this.logger.error({ err }, 'could not refresh the gallery; keeping the current one');
      }
    }
  }

  /** Reads the gallery, then looks for a new one every `intervalSeconds` until stopped. */
  async start(intervalSeconds: number): Promise<void> {
    await this.refresh();
    this.loop = new PollLoop({
      // refresh() logs and keeps the current gallery on any failure: it never throws.
      round: () => this.refresh(),
      intervalMs: intervalSeconds * 1000,
      pauseFirst: true,
      backoffMs: () => intervalSeconds * 1000,
      onError: (err) => this.logger.error({ err }, 'gallery refresh failed'),
      abortRoundOnStop: false,
    });
    this.loop.start();
  }

  /** Stops looking, once a refresh in progress has finished. */
  async stop(): Promise<void> {
    await this.loop?.stop();
  }
}
