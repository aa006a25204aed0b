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
import { EnrollmentService } from '../enrollment/service.js';
import type { EmbeddedPhoto } from '../enrollment/plan.js';
import { AppError } from '../shared/errors.js';
import { decodeVector, validatePersonName } from '../shared/gallery.js';
import type { GalleryRepository } from '../shared/gallery-repository.js';
import type { Logger } from '../shared/logger.js';
import { ENROLLMENT_PREFIX, inBucketKey, safeFileName, type ResponseMessage } from '../shared/messages.js';
import { deleteKeys } from '../shared/s3-objects.js';
import { requireApiKey } from './api-key.js';
import { methodNotAllowed } from './http-errors.js';
import { checkImage } from './image-check.js';
import { submit, type SubmitDeps } from './submit.js';
import { timerOf } from './answer-timer.js';
import { parseUpload } from './uploads.js';

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
  const enrollment = new EnrollmentService({
    gallery: deps.gallery,
    deletePhotos: (keys) => deleteKeys(deps.s3, deps.inBucket, keys),
    logger: deps.logger,
  });
  const auth = requireApiKey(deps.apiKey);
  const readAuth: RequestHandler = deps.readRequiresKey ? auth : (_req, _res, next) => next();
  const upload = parseUpload({
    maxUploadBytes: deps.maxUploadBytes,
    files: { maxFiles: MAX_ENROLL_IMAGES },
    tooManyFiles: () => new AppError('TOO_MANY_IMAGES', { max: MAX_ENROLL_IMAGES }),
  });

  router.get('/people', readAuth, async (_req, res) => {
    res.json(await enrollment.list());
  });

  router.get('/people/:name', readAuth, async (req, res) => {
    res.json(await enrollment.person(personName(req)));
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
      res.on('close', () => {
        if (!res.writableFinished) for (const u of uploads) deps.router.cancel(u.requestId);
      });
      const result = await enrollment.enroll(personName(req), {
        requestId,
        sourceKeys: uploads.map((u) => u.key),
        // Every answer is awaited before any is judged, so that a refusal deletes photos no worker still reads.
        embed: async () => {
          const answers = await Promise.all(
            uploads.map((u) =>
              submit(deps, {
                requestId: u.requestId,
                key: u.key,
                fileName: u.fileName,
                body: u.file.buffer,
                contentType: `image/${u.image.format}`,
                task: 'enroll',
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
        galleryVersion: result.galleryVersion,
        added: result.added.map((f) => ({ id: f.id, file: f.file, box: f.box, score: f.score })),
        alreadyEnrolled: result.alreadyEnrolled.map((f) => ({ id: f.id, file: f.file })),
        faces: result.faces,
      });
    },
  );

  router.delete('/people/:name', auth, async (req, res) => {
    res.json(await enrollment.removePerson(personName(req)));
  });

  router.delete('/people/:name/faces/:faceId', auth, async (req, res) => {
    res.json(await enrollment.removeFace(personName(req), String(req.params['faceId'])));
  });

  router.all('/people', methodNotAllowed('GET'));
  router.all('/people/:name', methodNotAllowed('GET, DELETE'));
  router.all('/people/:name/faces', methodNotAllowed('POST'));
  router.all('/people/:name/faces/:faceId', methodNotAllowed('DELETE'));
  return router;
}

/** A worker's answer for one enrollment photo, as the enrollment service takes it; an error answer throws. */
function embeddedPhoto(
  upload: { fileName: string; file: Express.Multer.File; key: string },
  answer: ResponseMessage,
): EmbeddedPhoto {
  if (answer.status === 'error') throw AppError.fromReport(answer.code, { ...answer.params, file: upload.fileName });
  const face = answer.faces[0];
  return {
    file: upload.fileName,
    bytes: upload.file.buffer,
    sourceKey: upload.key,
    embedding: {
      kind: 'faces',
      facesFound: answer.facesFound,
      ...(face?.embedding
        ? { face: { embedding: decodeVector(face.embedding), box: face.box, score: face.score } }
        : {}),
    },
  };
}

/** The validated {name} of the path (Express has already percent-decoded it). */
function personName(req: Request): string {
  return validatePersonName(String(req.params['name']));
}
