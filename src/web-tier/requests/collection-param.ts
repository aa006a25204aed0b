/**
 * `?collection=NAME` on POST / and POST /videos: which collection the upload is matched against. Checked before
 * any byte of the upload is read: a name that is not a collection name is 400, a collection that does not
 * exist 404. Without it, the default collection (the course's `curl -F inputFile=@x.jpg` sees no change).
 * A collection seen to exist is believed for a few seconds, so a stream of uploads costs one HEAD request
 * every few seconds, not one each; one this web tier deletes is forgotten at once (another web tier's
 * deletion is seen within those seconds, and the workers refuse it after their next refresh).
 */
import type { RequestHandler, Response } from 'express';
import { DEFAULT_COLLECTION, validateCollectionName } from '../../shared/collections/manifest.js';
import type { CollectionRepository } from '../../shared/collections/repository.js';
import { AppError } from '../../shared/wire/errors.js';

/** How long a collection seen to exist is believed to: a deleted one is answered by the worker meanwhile. */
const EXISTS_TTL_MS = 5_000;

/** Which collections were seen to exist lately; a collection this web tier deletes is forgotten at once. */
export class SeenCollections {
  private readonly until = new Map<string, number>();

  believed(name: string): boolean {
    return (this.until.get(name) ?? 0) > Date.now();
  }

  saw(name: string): void {
    if (this.until.size > 10_000) this.until.clear();
    this.until.set(name, Date.now() + EXISTS_TTL_MS);
  }

  forget(name: string): void {
    this.until.delete(name);
  }
}

export function collectionParam(
  collections: Pick<CollectionRepository, 'etag'>,
  seen: SeenCollections = new SeenCollections(),
): RequestHandler {
  return (req, res, next) => {
    const raw = req.query['collection'];
    if (raw === undefined) {
      res.locals['collection'] = DEFAULT_COLLECTION;
      next();
      return;
    }
    if (typeof raw !== 'string') throw new AppError('INVALID_COLLECTION', { name: String(raw), max: 64 });
    const collection = validateCollectionName(raw);
    res.locals['collection'] = collection;
    if (collection === DEFAULT_COLLECTION || seen.believed(collection)) {
      next();
      return;
    }
    collections.etag(collection).then(
      (etag) => {
        if (etag === undefined) {
          seen.forget(collection);
          next(new AppError('COLLECTION_NOT_FOUND', { name: collection }));
          return;
        }
        seen.saw(collection);
        next();
      },
      (err: unknown) => next(new AppError('STORAGE_UNAVAILABLE', {}, err)),
    );
  };
}

/** The collection `collectionParam` chose for this request. */
export function collectionOf(res: Response): string {
  return (res.locals['collection'] as string | undefined) ?? DEFAULT_COLLECTION;
}
