/**
 * One image through the app tier: store it in the in-bucket under a key unique to this request, send its key
 * on the request queue, and wait for the worker's response. Recognition and enrollment both go this way, so
 * enrollment runs on the same workers and the same engine as recognition.
 */
import { createReadStream } from 'node:fs';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AppError } from '../shared/wire/errors.js';
import type { Logger } from '../shared/logger.js';
import {
  encodeFileNameMetadata,
  encodeRequest,
  FILE_NAME_METADATA,
  MESSAGE_VERSION,
  type RequestMessage,
  type ResponseMessage,
} from '../shared/wire/messages.js';
import type { AnswerTimer } from './answer-timer.js';
import type { RequestSender } from './request-sender.js';
import type { ResponseRouter } from './response-router.js';

export interface SubmitDeps {
  readonly s3: S3Client;
  /** Sends on the request queue, batching concurrent requests. */
  readonly requests: RequestSender;
  readonly router: ResponseRouter;
  readonly inBucket: string;
  readonly resultTimeoutSeconds: number;
  readonly logger: Logger;
}

export interface Submission {
  readonly requestId: string;
  readonly key: string;
  /** The upload's file name, kept whole in the image's metadata (the worker's out-bucket key comes from it). */
  readonly fileName: string;
  /** The upload: in memory (an image), or in a file (a video, sent to S3 in parts when large). */
  readonly body: Uint8Array | { readonly path: string };
  readonly contentType: string;
  /** How long the answer may take; default the deps' `resultTimeoutSeconds`. */
  readonly resultTimeoutSeconds?: number;
  readonly task: RequestMessage['task'];
  readonly faces: RequestMessage['faces'];
  /** The collection to match against; default: the default collection. */
  readonly collection?: string;
  /** Where the stages are recorded: upload, enqueue, wait, and the worker's own. */
  readonly timer: AnswerTimer;
  /** Called once the image is stored and the message sent. */
  readonly onQueued?: () => void;
}

/** Resolves with the worker's response, or rejects with STORAGE_UNAVAILABLE or a result timeout. */
export async function submit(deps: SubmitDeps, s: Submission): Promise<ResponseMessage> {
  const started = performance.now();
  const result = deps.router.wait(s.requestId, (s.resultTimeoutSeconds ?? deps.resultTimeoutSeconds) * 1000);
  // The waiter may time out while we are still storing; mark the rejection handled, it is awaited below.
  result.catch(() => undefined);
  try {
    const object = {
      Bucket: deps.inBucket,
      Key: s.key,
      ContentType: s.contentType,
      Metadata: { 'request-id': s.requestId, [FILE_NAME_METADATA]: encodeFileNameMetadata(s.fileName) },
    };
    if (s.body instanceof Uint8Array) await deps.s3.send(new PutObjectCommand({ ...object, Body: s.body }));
    else await new Upload({ client: deps.s3, params: { ...object, Body: createReadStream(s.body.path) } }).done();
  } catch (err) {
    deps.router.cancel(s.requestId);
    deps.logger.warn({ err, requestId: s.requestId }, 'could not store the upload');
    throw new AppError('STORAGE_UNAVAILABLE', {}, err);
  }
  const storedAt = performance.now();
  s.timer.record('upload', storedAt - started);
  try {
    await deps.requests.send(
      encodeRequest({
        v: MESSAGE_VERSION,
        requestId: s.requestId,
        key: s.key,
        sentAt: Date.now(),
        task: s.task,
        faces: s.faces,
        ...(s.collection ? { collection: s.collection } : {}),
        ...(deps.router.replyTo ? { replyTo: deps.router.replyTo } : {}),
      }),
    );
  } catch (err) {
    // Stored but not queued: nothing will ever read the image, so it goes, and the client is told to retry.
    deps.router.cancel(s.requestId);
    deps.logger.warn({ err, requestId: s.requestId, key: s.key }, 'could not queue the upload; deleting its image');
    await deps.s3
      .send(new DeleteObjectCommand({ Bucket: deps.inBucket, Key: s.key }))
      .catch((deleteErr: unknown) =>
        deps.logger.error(
          { err: deleteErr, key: s.key },
          'could not delete the image of an upload that was not queued',
        ),
      );
    throw new AppError('STORAGE_UNAVAILABLE', {}, err);
  }
  const queuedAt = performance.now();
  s.timer.record('enqueue', queuedAt - storedAt);
  s.onQueued?.();
  try {
    const answer = await result;
    s.timer.recordWorker(
      answer.timings,
      answer.workerId,
      answer.status === 'ok' ? answer.galleryVersion : undefined,
      answer.status === 'ok' ? answer.collection : undefined,
    );
    return answer;
  } finally {
    s.timer.record('wait', performance.now() - queuedAt);
  }
}
