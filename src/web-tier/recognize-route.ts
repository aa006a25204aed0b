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
import { timerOf } from './answer-timer.js';
import { wantsJson } from './http-errors.js';
import { checkImage } from './image-check.js';
import { submit, type SubmitDeps } from './submit.js';

export interface RecognizeDeps extends SubmitDeps {
  readonly maxImagePixels: number;
}

export function recognizeRoute(deps: RecognizeDeps): RequestHandler {
  return async (req, res) => {
    const timer = timerOf(res);
    const requestId = randomUUID();
    res.locals['requestId'] = requestId;
    const file = req.file;
    if (!file) throw new AppError('MISSING_FILE');
    const fileName = safeFileName(file.originalname);
    const stem = fileStem(fileName);
    let image;
    try {
      image = checkImage(file.buffer, fileName, deps.maxImagePixels);
    } finally {
      // A refused upload's answer says how long its checks took too.
      timer.record('validate', performance.now() - timer.startedAt);
    }

    const json = wantsJson(req);
    res.on('close', () => {
      if (!res.writableFinished) deps.router.cancel(requestId);
    });
    const answer = await submit(deps, {
      requestId,
      key: inBucketKey(`${UPLOADS_PREFIX}${requestId}`, fileName),
      fileName,
      body: file.buffer,
      contentType: `image/${image.format}`,
      task: 'recognize',
      // The plain-text answer names one face; only a JSON answer needs every face embedded and matched.
      faces: json ? 'all' : 'subject',
      timer,
      onQueued: () => deps.logger.debug({ requestId, bytes: file.size }, 'request queued'),
    });
    const d = timer.durations();
    const timings = {
      validateMs: roundMs(d.validate ?? 0),
      uploadMs: roundMs(d.upload ?? 0),
      enqueueMs: roundMs(d.enqueue ?? 0),
      waitMs: roundMs(d.wait ?? 0),
      totalMs: roundMs(d.total ?? 0),
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
