/**
 * POST / — the course contract: one image in the multipart field "inputFile", answered with "<stem>:<label>"
 * once a worker's result comes back. The image goes to the in-bucket under a key unique to this request, so
 * concurrent uploads of the same file name never see each other's image or answer.
 */
import type { RequestHandler } from 'express';
import { inBucketKey, UPLOADS_PREFIX } from '../../shared/wire/messages.js';
import { acceptedUpload } from '../requests/uploads.js';
import { wantsJson } from '../../http/http-errors.js';
import { checkImage } from '../requests/image-check.js';
import type { AppTierClient } from '../app-tier-client/client.js';
import type { Logger } from '../../shared/logger.js';
import { collectionOf } from '../requests/collection-param.js';

export interface RecognizeDeps {
  readonly appTier: AppTierClient;
  readonly logger: Logger;
  readonly maxImagePixels: number;
}

export function recognizeRoute(deps: RecognizeDeps): RequestHandler {
  return async (req, res) => {
    const { timer, requestId, file, fileName, stem } = acceptedUpload(req, res);
    let image;
    try {
      image = checkImage(file.buffer, fileName, deps.maxImagePixels);
    } finally {
      // A refused upload's answer says how long its checks took too.
      timer.record('validate', performance.now() - timer.startedAt);
    }

    const json = wantsJson(req);
    deps.appTier.cancelWhenClientLeaves(res, [requestId]);
    const answer = await deps.appTier.ask({
      requestId,
      key: inBucketKey(`${UPLOADS_PREFIX}${requestId}`, fileName),
      fileName,
      body: file.buffer,
      contentType: `image/${image.format}`,
      task: 'recognize',
      collection: collectionOf(res),
      // The plain-text answer names one face; only a JSON answer needs every face embedded and matched.
      faces: json ? 'all' : 'subject',
      timer,
      onQueued: () => deps.logger.debug({ requestId, bytes: file.size }, 'request queued'),
    });
    const timings = timer.answerTimings(answer.timings);
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
        collection: answer.collection,
        galleryVersion: answer.galleryVersion,
        workerId: answer.workerId,
        timings,
      });
    } else {
      res.type('text/plain').send(`${stem}:${answer.label}`);
    }
  };
}
