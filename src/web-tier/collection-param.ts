/**
 * `?collection=NAME` on POST / and POST /videos: which collection the upload is matched against. Checked before
 * any byte of the upload is read: a name that is not a collection name is 400, a collection that does not
 * exist 404. Without it, the default collection (the course's `curl -F inputFile=@x.jpg` sees no change).
 * A collection seen to exist is believed for a few seconds, so a stream of uploads costs one HEAD request
 * every few seconds, not one each.
 */
import type { RequestHandler, Response } from 'express';
import { DEFAULT_COLLECTION, validateCollectionName } from '../shared/collections/manifest.js';
import type { CollectionRepository } from '../shared/collections/repository.js';
import { AppError } from '../shared/errors.js';

/** How long a collection seen to exist is believed to: a deleted one is answered by the worker meanwhile. */
const EXISTS_TTL_MS = 5_000;

export function collectionParam(collections: Pick<CollectionRepository, 'etag'>): RequestHandler {
  const seen = new Map<string, number>();
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
    if (collection === DEFAULT_COLLECTION || (seen.get(collection) ?? 0) > Date.now()) {
      next();
      return;
    }
    collections.etag(collection).then(
      (etag) => {
        if (etag === undefined) {
          seen.delete(collection);
          next(new AppError('COLLECTION_NOT_FOUND', { name: collection }));
          return;
        }
        if (seen.size > 10_000) seen.clear();
        seen.set(collection, Date.now() + EXISTS_TTL_MS);
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
