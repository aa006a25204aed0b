/**
 * The enrollment API: GET /people, GET /people/{name}, POST /people/{name}/faces (multipart, 1 to 10 images,
 * each showing exactly one face), DELETE /people/{name}, DELETE /people/{name}/faces/{faceId}.
 *
 * Changes need the API key; reads too unless PEOPLE_READ_REQUIRES_KEY=false. Names are checked against one
 * rule (shared/gallery.ts) and are only ever data in the gallery document, never paths or keys. Faces are
 * embedded by the workers, like any request; the gallery is then changed with a conditional write, and
 * workers load the new version within GALLERY_REFRESH_SECONDS. A request enrolls all its images or none.
 */
import { randomUUID } from 'node:crypto';
import { Router, type Request, type RequestHandler } from 'express';
import { AppError } from '../shared/errors.js';
import {
  addFaces,
  decodeVector,
  faceIdOf,
  findPerson,
  removeFace,
  removePerson,
  requireOneFace,
  validatePersonName,
  type NewFace,
  type StoredFace,
} from '../shared/gallery.js';
import type { GalleryRepository } from '../shared/gallery-repository.js';
import type { Logger } from '../shared/logger.js';
import { ENROLLMENT_PREFIX, inBucketKey, safeFileName } from '../shared/messages.js';
import { deleteKeys } from '../shared/s3-objects.js';
import { requireApiKey } from './api-key.js';
import { methodNotAllowed } from './http-errors.js';
import { checkImage } from './image-check.js';
import { parseUpload } from './uploads.js';
import { submit, type SubmitDeps } from './submit.js';

/** Images per enrollment request: enough for a handful of photos, few enough to answer within a minute. */
export const MAX_ENROLL_IMAGES = 10;

export interface PeopleDeps extends SubmitDeps {
  readonly gallery: GalleryRepository;
  readonly logger: Logger;
  readonly apiKey: string | undefined;
  readonly readRequiresKey: boolean;
  readonly maxUploadBytes: number;
  readonly maxImagePixels: number;
}

export function peopleRoutes(deps: PeopleDeps): Router {
  const router = Router();
  const auth = requireApiKey(deps.apiKey);
  const readAuth: RequestHandler = deps.readRequiresKey ? auth : (_req, _res, next) => next();
  const upload = parseUpload({
    maxUploadBytes: deps.maxUploadBytes,
    files: { maxFiles: MAX_ENROLL_IMAGES },
    tooManyFiles: () => new AppError('TOO_MANY_IMAGES', { max: MAX_ENROLL_IMAGES }),
  });

  router.get('/people', readAuth, async (_req, res) => {
    const { gallery } = await deps.gallery.read();
    res.json({
      galleryVersion: gallery.version,
      people: gallery.people
        .map((p) => ({ name: p.name, faces: p.faces.length }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    });
  });

  router.get('/people/:name', readAuth, async (req, res) => {
    const name = personName(req);
    const { gallery } = await deps.gallery.read();
    const person = findPerson(gallery, name);
    res.json({
      name,
      galleryVersion: gallery.version,
      faces: person.faces.map((f) => ({ id: f.id, addedAt: f.addedAt })),
    });
  });

  router.post(
    '/people/:name/faces',
    auth,
    (req, _res, next) => {
      // Check the name before reading a possibly large upload.
      personName(req);
      next();
    },
    upload,
    async (req, res) => {
      const name = personName(req);
      const files = (req.files as Express.Multer.File[] | undefined) ?? [];
      if (files.length === 0) throw new AppError('NO_IMAGES', { max: MAX_ENROLL_IMAGES });
      const requestId = randomUUID();
      res.locals['requestId'] = requestId;
      const uploads = files.map((file, i) => {
        const fileName = safeFileName(file.originalname);
        const image = checkImage(file.buffer, fileName, deps.maxImagePixels);
        return { file, fileName, image, requestId: i === 0 ? requestId : randomUUID() };
      });
      const keys = uploads.map((u) => inBucketKey(`${ENROLLMENT_PREFIX}${u.requestId}`, u.fileName));
      res.on('close', () => {
        if (!res.writableFinished) for (const u of uploads) deps.router.cancel(u.requestId);
      });
      let faces: (NewFace & { file: string; box: unknown; score: number })[];
      try {
        const answers = await Promise.all(
          uploads.map((u, i) =>
            submit(deps, {
              requestId: u.requestId,
              key: keys[i]!,
              fileName: u.fileName,
              bytes: u.file.buffer,
              contentType: `image/${u.image.format}`,
              task: 'enroll',
              faces: 'all',
            }),
          ),
        );
        faces = answers.map((answer, i) => {
          const { fileName, file } = uploads[i]!;
          if (answer.status === 'error') throw AppError.fromReport(answer.code, { ...answer.params, file: fileName });
          requireOneFace(fileName, answer.facesFound);
          const face = answer.faces[0]!;
          return {
            id: faceIdOf(file.buffer),
            embedding: decodeVector(face.embedding!),
            sourceKey: keys[i]!,
            file: fileName,
            box: face.box,
            score: face.score,
          };
        });
      } catch (err) {
        // Nothing is enrolled: do not keep the photos either.
        await deleteSources(deps, keys);
        throw err;
      }
      let update: ReturnType<typeof addFaces>;
      try {
        update = await deps.gallery.update((current) => addFaces(current, name, faces));
      } catch (err) {
        // Refused (a look-alike name, a photo that is someone else's) or not written: keep no photo.
        await deleteSources(deps, keys);
        throw err;
      }
      const { gallery, added } = update;
      // The first upload of each newly added photo is kept; repeats (already enrolled, or sent twice in this
      // request) are not, and their copies go.
      const kept = new Set(faces.filter((f, i) => added.includes(f.id) && faces.findIndex((g) => g.id === f.id) === i));
      const repeated = faces.filter((f) => !kept.has(f));
      await deleteSources(
        deps,
        repeated.map((f) => f.sourceKey!),
      );
      deps.logger.info(
        { requestId, name, added: added.length, repeated: repeated.length, galleryVersion: gallery.version },
        'enrolled',
      );
      res.status(added.length > 0 ? 201 : 200).json({
        name,
        galleryVersion: gallery.version,
        added: [...kept].map((f) => ({ id: f.id, file: f.file, box: f.box, score: f.score })),
        alreadyEnrolled: repeated.map((f) => ({ id: f.id, file: f.file })),
        faces: findPerson(gallery, name).faces.length,
      });
    },
  );

  router.delete('/people/:name', auth, async (req, res) => {
    const name = personName(req);
    const { gallery, removed } = await deps.gallery.update((current) => removePerson(current, name));
    await deleteSources(deps, sourceKeys(removed));
    deps.logger.info({ name, faces: removed.length, galleryVersion: gallery.version }, 'person removed');
    res.json({ name, removedFaces: removed.length, galleryVersion: gallery.version });
  });

  router.delete('/people/:name/faces/:faceId', auth, async (req, res) => {
    const name = personName(req);
    const faceId = String(req.params['faceId']);
    const { gallery, removed } = await deps.gallery.update((current) => removeFace(current, name, faceId));
    await deleteSources(deps, sourceKeys(removed));
    const left = gallery.people.find((p) => p.name === name)?.faces.length ?? 0;
    deps.logger.info({ name, faceId, galleryVersion: gallery.version }, 'face removed');
    res.json({ name, removedFace: faceId, faces: left, galleryVersion: gallery.version });
  });

  router.all('/people', methodNotAllowed('GET'));
  router.all('/people/:name', methodNotAllowed('GET, DELETE'));
  router.all('/people/:name/faces', methodNotAllowed('POST'));
  router.all('/people/:name/faces/:faceId', methodNotAllowed('DELETE'));
  return router;
}

/** The validated {name} of the path (Express has already percent-decoded it). */
function personName(req: Request): string {
  return validatePersonName(String(req.params['name']));
}

function sourceKeys(faces: readonly StoredFace[]): string[] {
  return faces.flatMap((f) => (f.sourceKey ? [f.sourceKey] : []));
}

/** Deletes enrollment photos from the in-bucket; a failure is logged, not fatal (the gallery is what counts). */
async function deleteSources(deps: PeopleDeps, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  try {
    await deleteKeys(deps.s3, deps.inBucket, keys);
  } catch (err) {
    deps.logger.warn({ err, keys }, 'could not delete enrollment photos from the in-bucket');
  }
}
