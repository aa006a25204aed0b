/**
 * Enrollment photos that no collection uses. An enrollment stores its photos under `enrollment/` before the
 * workers embed them and the gallery changes, and deletes them if it fails; a web tier that dies in between (a
 * crash, a kill -9, a machine that stops) leaves them behind: photos of people who were never enrolled, which
 * retention never expires. So a starting web tier deletes those older than any enrollment in progress could be
 * (a second web tier may be enrolling), and looks again once the younger ones have aged past that.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { CollectionRepository } from '../../shared/collections/repository.js';
import { AppError } from '../../shared/wire/errors.js';
import type { Logger } from '../../shared/logger.js';
import { ENROLLMENT_PREFIX } from '../../shared/wire/messages.js';
import { deleteKeys, listObjects } from '../../shared/aws/s3-objects.js';

export interface UnenrolledPhotosOptions {
  readonly s3: S3Client;
  readonly inBucket: string;
  readonly collections: CollectionRepository;
  /** Photos younger than this may belong to an enrollment in progress, and are left for the second look. */
  readonly minAgeMs: number;
  readonly logger: Logger;
}

/** Deletes the unused enrollment photos older than `minAgeMs`; returns the keys it deleted. */
export async function deleteUnenrolledPhotos(options: UnenrolledPhotosOptions, now = Date.now()): Promise<string[]> {
  const used = new Set<string>();
  for (const name of await options.collections.names()) {
    // A collection that cannot be read fails the whole look: its photos must not be taken for unused ones.
    const { view } = await options.collections.read(name).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'COLLECTION_NOT_FOUND') return { view: undefined };
      throw err;
    });
    for (const key of view?.sourceKeys() ?? []) used.add(key);
  }
  const unused: string[] = [];
  for await (const page of listObjects(options.s3, options.inBucket, ENROLLMENT_PREFIX)) {
    for (const { Key, LastModified } of page) {
      if (!Key || used.has(Key)) continue;
      if (LastModified && now - LastModified.getTime() < options.minAgeMs) continue;
      unused.push(Key);
    }
  }
  await deleteKeys(options.s3, options.inBucket, unused);
  if (unused.length > 0) {
    options.logger.info(
      { deleted: unused.length, keys: unused.slice(0, 20) },
      'deleted enrollment photos that no collection uses (left by enrollments that a stop or crash interrupted)',
    );
  }
  return unused;
}

/**
 * Runs `deleteUnenrolledPhotos` now and once more when photos that were too young have aged past `minAgeMs`.
 * Failures are logged, never thrown: the web tier answers requests whether or not this succeeds. `stop` waits
 * for a look in progress, so that the S3 client can be closed after it.
 */
export function sweepUnenrolledPhotos(options: UnenrolledPhotosOptions): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = deleteUnenrolledPhotos(options).catch((err: unknown) =>
      options.logger.warn(
        { err },
        'could not look for unused enrollment photos; they are looked for at the next start',
      ),
    );
  };
  run();
  const again = setTimeout(run, options.minAgeMs);
  again.unref();
  return {
    async stop() {
      clearTimeout(again);
      await running;
    },
  };
}
