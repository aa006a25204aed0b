/**
 * POST / — the course contract: one image in the multipart field "inputFile", answered with "<stem>:<label>"
 * once a worker's result comes back. The image goes to the in-bucket under a key unique to this request, so
 * concurrent uploads of the same file name never see each other's image or answer.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../shared/errors.js';
import { roundMs } from '../shared/timing.js';
import { fileStem, inBucketKey, safeFileName, UPLOADS_PREFIX } from '../shared/messages.js';
import { wantsJson } from './http-errors.js';
import { checkImage } from './image-check.js';
import { submit, type SubmitDeps } from './submit.js';

export interface RecognizeDeps extends SubmitDeps {
  readonly maxImagePixels: number;
}

export function recognizeRoute(deps: RecognizeDeps): RequestHandler {
  return async (req, res) => {
    const started = performance.now();
    const requestId = randomUUID();
    res.locals['requestId'] = requestId;
    const file = req.file;
    if (!file) throw new AppError('MISSING_FILE');
    const fileName = safeFileName(file.originalname);
    const stem = fileStem(fileName);
    const image = checkImage(file.buffer, fileName, deps.maxImagePixels);
    const validatedAt = performance.now();

    const json = wantsJson(req);
    res.on('close', () => {
      if (!res.writableFinished) deps.router.cancel(requestId);
    });
    let storedAt = validatedAt;
    let queuedAt = validatedAt;
    const answer = await submit(deps, {
      requestId,
      key: inBucketKey(`${UPLOADS_PREFIX}${requestId}`, fileName),
      fileName,
      bytes: file.buffer,
      contentType: `image/${image.format}`,
      task: 'recognize',
      // The plain-text answer names one face; only a JSON answer needs every face embedded and matched.
      faces: json ? 'all' : 'subject',
      onQueued: (t) => {
        ({ storedAt, queuedAt } = t);
        deps.logger.debug({ requestId, bytes: file.size }, 'request queued');
      },
    });
    const timings = {
      validateMs: roundMs(validatedAt - started),
      uploadMs: roundMs(storedAt - validatedAt),
      enqueueMs: roundMs(queuedAt - storedAt),
      waitMs: roundMs(performance.now() - queuedAt),
      totalMs: roundMs(performance.now() - started),
      worker: answer.timings,
    };
    if (answer.status === 'error') {
      throw AppError.fromReport(answer.code, { ...answer.params, file: fileName });
    }
    deps.logger.info({ requestId, stem, label: answer.label, workerId: answer.workerId, timings }, 'answered');
    if (json) {
      res.json({
        requestId,
        name: stem,
        label: answer.label,
        similarity: answer.similarity,
        image: answer.image,
        facesFound: answer.facesFound,
        faces: answer.faces,
        galleryVersion: answer.galleryVersion,
        workerId: answer.workerId,
        timings,
      });
    } else {
      res.type('text/plain').send(`${stem}:${answer.label}`);
    }
  };
}
