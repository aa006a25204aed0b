/**
 * The enrollment API, in a collection: GET /collections/{collection}/people (paged), GET …/people/{name},
 * POST …/people/{name}/faces (multipart, 1 to 10 images, each enrolling its dominant face), DELETE
 * …/people/{name}, DELETE …/people/{name}/faces/{faceId}; and the same routes at /people for the default
 * collection. Collections themselves: GET /collections, and POST, GET, DELETE /collections/{collection}.
 *
 * Changes need the API key; reads too unless PEOPLE_READ_REQUIRES_KEY=false. Names are checked against one
 * rule (shared/collections/names-and-faces.ts) and are only ever data in segments, never paths or keys. Faces are embedded by the
 * workers, like any request; the collection then gets a new segment and a conditionally written manifest, and
 * workers load the new version within GALLERY_REFRESH_SECONDS. A request enrolls all its images or none.
 */
import { randomUUID } from 'node:crypto';
import { Router, type Request, type RequestHandler } from 'express';
import { EnrollmentService, MAX_PEOPLE_PAGE } from '../../enrollment/service.js';
import type { EmbeddedPhoto } from '../../enrollment/plan.js';
import { AppError } from '../../shared/wire/errors.js';
import { decodeVector, validatePersonName } from '../../shared/collections/names-and-faces.js';
import { DEFAULT_COLLECTION, validateCollectionName } from '../../shared/collections/manifest.js';
import type { CollectionRepository } from '../../shared/collections/repository.js';
import type { Logger } from '../../shared/logger.js';
import { ENROLLMENT_PREFIX, inBucketKey, safeFileName, type ResponseMessage } from '../../shared/wire/messages.js';
import { deleteKeys } from '../../shared/aws/s3-objects.js';
import { requireApiKey } from '../requests/api-key.js';
import type { SeenCollections } from '../requests/collection-param.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { mount } from '../api/operation.js';
import { PEOPLE_API } from './people-api.js';
import { checkImage } from '../requests/image-check.js';
import { answered, type AppTierClient } from '../app-tier-client/client.js';
import { timerOf } from '../requests/answer-timer.js';
import { parseUpload } from '../requests/uploads.js';

/** Images per enrollment request: enough for a handful of photos, few enough to answer within a minute. */
export const MAX_ENROLL_IMAGES = 10;

export interface PeopleDeps {
  readonly appTier: AppTierClient;
  readonly s3: S3Client;
  readonly inBucket: string;
  /** Turns uploads away once shutdown has begun. */
  readonly whileAccepting: RequestHandler;
  /** Caps the uploads being received at once (client-limits.ts). */
  readonly uploadSlots: RequestHandler;
  readonly collections: CollectionRepository;
  /** What `?collection=` believes exists: a deleted collection is forgotten there at once. */
  readonly seenCollections: SeenCollections;
  readonly logger: Logger;
  readonly apiKey: string | undefined;
  readonly readRequiresKey: boolean;
  readonly maxUploadBytes: number;
  readonly maxImagePixels: number;
}

export function peopleRoutes(deps: PeopleDeps): Router {
  const enrollment = new EnrollmentService({
    collections: deps.collections,
    deletePhotos: (keys) => deleteKeys(deps.s3, deps.inBucket, keys),
    logger: deps.logger,
    compact: compactor(deps.collections, deps.logger),
  });
  const auth = requireApiKey(deps.apiKey);
  const readAuth: RequestHandler = deps.readRequiresKey ? auth : (_req, _res, next) => next();
  const upload = parseUpload({
    maxUploadBytes: deps.maxUploadBytes,
    files: { maxFiles: MAX_ENROLL_IMAGES },
    tooManyFiles: () => new AppError('TOO_MANY_IMAGES', { max: MAX_ENROLL_IMAGES }),
  });

  const listPeople: RequestHandler = async (req, res) => {
    const after = typeof req.query['after'] === 'string' ? req.query['after'] : undefined;
    const limit = pageLimit(req.query['limit']);
    res.json(await enrollment.list(collectionName(req), { after, limit }));
  };
  const getPerson: RequestHandler = async (req, res) => {
    res.json(await enrollment.person(collectionName(req), personName(req)));
  };
  const enroll: RequestHandler[] = [
    deps.whileAccepting,
    // Uploads arriving at once are capped, before any body is read.
    deps.uploadSlots,
    auth,
    (req, _res, next) => {
      // Check the name before reading a possibly large upload.
      personName(req);
      next();
    },
    upload,
    async (req, res) => {
      const files = (req.files as Express.Multer.File[] | undefined) ?? [];
      if (files.length === 0) throw new AppError('NO_IMAGES', { max: MAX_ENROLL_IMAGES });
      const timer = timerOf(res);
      const requestId = randomUUID();
      res.locals['requestId'] = requestId;
      // Each photo is checked, stored and embedded by the workers like any request, under an id of its own.
      const uploads = files.map((file, i) => {
        const fileName = safeFileName(file.originalname);
        const image = checkImage(file.buffer, fileName, deps.maxImagePixels);
        const id = i === 0 ? requestId : randomUUID();
        return { file, fileName, image, requestId: id, key: inBucketKey(`${ENROLLMENT_PREFIX}${id}`, fileName) };
      });
      timer.record('validate', performance.now() - timer.startedAt);
      deps.appTier.cancelWhenClientLeaves(
        res,
        uploads.map((u) => u.requestId),
      );
      const result = await enrollment.enroll(collectionName(req), personName(req), {
        requestId,
        sourceKeys: uploads.map((u) => u.key),
        // Every answer is awaited before any is judged, so that a refusal deletes photos no worker still reads.
        embed: async () => {
          const answers = await Promise.all(
            uploads.map((u) =>
              deps.appTier.submit({
                requestId: u.requestId,
                key: u.key,
                fileName: u.fileName,
                body: u.file.buffer,
                contentType: `image/${u.image.format}`,
                task: 'enroll',
                // The worker says which enrolled person each face is most like (a copy is refused).
                collection: collectionName(req),
                faces: 'all',
                timer,
              }),
            ),
          );
          return answers.map((answer, i) => embeddedPhoto(uploads[i]!, answer));
        },
      });
      res.status(result.added.length > 0 ? 201 : 200).json({
        name: result.name,
        collection: result.collection,
        galleryVersion: result.galleryVersion,
        added: result.added.map((f) => ({ id: f.id, file: f.file, box: f.box, score: f.score })),
        alreadyEnrolled: result.alreadyEnrolled.map((f) => ({ id: f.id, file: f.file })),
        faces: result.faces,
      });
    },
  ];
  const removePerson: RequestHandler = async (req, res) => {
    res.json(await enrollment.removePerson(collectionName(req), personName(req)));
  };
  const removeFace: RequestHandler = async (req, res) => {
    res.json(await enrollment.removeFace(collectionName(req), personName(req), String(req.params['faceId'])));
  };

  return mount(Router(), PEOPLE_API, {
    '/collections/{collection}': {
      post: [
        auth,
        async (req, res) => {
          res.status(201).json(await deps.collections.create(collectionName(req)));
        },
      ],
      get: [
        readAuth,
        async (req, res) => {
          res.json(await deps.collections.describe(collectionName(req)));
        },
      ],
      delete: [
        auth,
        async (req, res) => {
          const { description, sourceKeys } = await deps.collections.delete(collectionName(req));
          deps.seenCollections.forget(description.name);
          await deleteKeys(deps.s3, deps.inBucket, sourceKeys).catch((err: unknown) =>
            deps.logger.warn({ err }, 'could not delete the photos of a deleted collection; the sweep takes them'),
          );
          deps.logger.info({ collection: description.name, faces: description.faces }, 'collection deleted');
          res.json({ deleted: description });
        },
      ],
    },
    '/collections': {
      get: [
        readAuth,
        async (_req, res) => {
          res.json({ collections: await deps.collections.list() });
        },
      ],
    },
    '/collections/{collection}/people/{name}/faces': { post: enroll },
    '/collections/{collection}/people': { get: [readAuth, listPeople] },
    '/collections/{collection}/people/{name}': { get: [readAuth, getPerson], delete: [auth, removePerson] },
    '/collections/{collection}/people/{name}/faces/{faceId}': { delete: [auth, removeFace] },
    '/people/{name}/faces': { post: enroll },
    '/people': { get: [readAuth, listPeople] },
    '/people/{name}/faces/{faceId}': { delete: [auth, removeFace] },
    '/people/{name}': { get: [readAuth, getPerson], delete: [auth, removePerson] },
  });
}

/** `?limit=` of a people page: 1 to MAX_PEOPLE_PAGE, 100 when absent. */
function pageLimit(raw: unknown): number {
  if (raw === undefined) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PEOPLE_PAGE) {
    throw new AppError('INVALID_PAGE_LIMIT', { max: MAX_PEOPLE_PAGE });
  }
  return n;
}

/** The validated {collection} of the path; the default collection for the /people routes. */
function collectionName(req: Request): string {
  const raw = req.params['collection'];
  return raw === undefined ? DEFAULT_COLLECTION : validateCollectionName(String(raw));
}

/**
 * Compacts a collection after a change, in the background, one collection at a time: a compaction that fails
 * is logged and tried again after the next change.
 */
function compactor(collections: CollectionRepository, logger: Logger): (collection: string) => void {
  const running = new Set<string>();
  return (collection) => {
    if (running.has(collection)) return;
    running.add(collection);
    collections
      .compact(collection)
      .then(async (done) => {
        if (done) logger.info({ collection, ...done }, 'collection compacted');
        const orphans = await collections.sweepOrphans(collection);
        if (orphans.length > 0) logger.info({ collection, deleted: orphans.length }, 'unreferenced segments deleted');
      })
      .catch((err: unknown) => logger.warn({ err, collection }, 'could not compact the collection; tried again later'))
      .finally(() => running.delete(collection));
  };
}

/** A worker's answer for one enrollment photo, as the enrollment service takes it; an error answer throws. */
function embeddedPhoto(
  upload: { fileName: string; file: Express.Multer.File; key: string },
  answer: ResponseMessage,
): EmbeddedPhoto {
  const { facesFound, faces } = answered(answer, upload.fileName);
  return {
    file: upload.fileName,
    bytes: upload.file.buffer,
    sourceKey: upload.key,
    embedding: {
      kind: 'faces',
      facesFound,
      faces: faces.flatMap((face) =>
        face.embedding
          ? [
              {
                embedding: decodeVector(face.embedding),
                box: face.box,
                score: face.score,
                ...(face.sharpness === undefined ? {} : { sharpness: face.sharpness }),
                ...(face.candidates?.[0] ? { nearest: face.candidates[0] } : {}),
              },
            ]
          : [],
      ),
    },
  };
}

/** The validated {name} of the path (Express has already percent-decoded it). */
function personName(req: Request): string {
  return validatePersonName(String(req.params['name']));
}
