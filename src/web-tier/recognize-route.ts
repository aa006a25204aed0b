/**
 * POST / — the course contract: one image in the multipart field "inputFile", answered with "<stem>:<label>"
 * once a worker's result comes back. The image goes to the in-bucket under a key unique to this request, so
 * concurrent uploads of the same file name never see each other's image or answer.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RequestHandler } from 'express';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { roundMs } from '../shared/timing.js';
import { encodeRequest, fileStem, MESSAGE_VERSION, safeFileName } from '../shared/messages.js';
import { wantsJson } from './http-errors.js';
import { checkImage } from './image-check.js';
import type { ResponseRouter } from './response-router.js';

export interface RecognizeDeps {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly router: ResponseRouter;
  readonly logger: Logger;
  readonly inBucket: string;
  readonly requestQueueUrl: string;
  readonly maxImagePixels: number;
  readonly resultTimeoutSeconds: number;
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

    const key = `${requestId}/${fileName}`;
    const result = deps.router.wait(requestId, deps.resultTimeoutSeconds * 1000);
    // The waiter may time out while we are still storing; mark the rejection handled, it is awaited below.
    result.catch(() => undefined);
    res.on('close', () => {
      if (!res.writableFinished) deps.router.cancel(requestId);
    });
    let storedAt: number;
    try {
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: deps.inBucket,
          Key: key,
          Body: file.buffer,
          ContentType: `image/${image.format}`,
          Metadata: { 'request-id': requestId },
        }),
      );
      storedAt = performance.now();
      await deps.sqs.send(
        new SendMessageCommand({
          QueueUrl: deps.requestQueueUrl,
          MessageBody: encodeRequest({ v: MESSAGE_VERSION, requestId, key, stem, sentAt: Date.now() }),
        }),
      );
    } catch (err) {
      deps.router.cancel(requestId);
      throw new AppError('STORAGE_UNAVAILABLE', {}, err);
    }
    const queuedAt = performance.now();
    deps.logger.debug({ requestId, key, bytes: file.size }, 'request queued');

    const answer = await result;
    const timings = {
      validateMs: roundMs(validatedAt - started),
      uploadMs: roundMs(storedAt - validatedAt),
      enqueueMs: roundMs(queuedAt - storedAt),
      waitMs: roundMs(performance.now() - queuedAt),
      totalMs: roundMs(performance.now() - started),
      worker: answer.timings,
    };
    if (answer.status === 'error') {
      throw new AppError(answer.code, { ...answer.params, file: fileName });
    }
    deps.logger.info({ requestId, stem, label: answer.label, workerId: answer.workerId, timings }, 'answered');
    if (wantsJson(req)) {
      res.json({
        requestId,
        name: stem,
        label: answer.label,
        similarity: answer.similarity,
        workerId: answer.workerId,
        timings,
      });
    } else {
      res.type('text/plain').send(`${stem}:${answer.label}`);
    }
  };
}
