/**
 * One image through the app tier: store it in the in-bucket under a key unique to this request, send its key
 * on the request queue, and wait for the worker's response. Recognition and enrollment both go this way, so
 * enrollment runs on the same workers and the same engine as recognition.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AppError } from '../shared/errors.js';
import { encodeRequest, MESSAGE_VERSION, type RequestMessage, type ResponseMessage } from '../shared/messages.js';
import type { RequestSender } from './request-sender.js';
import type { ResponseRouter } from './response-router.js';

export interface SubmitDeps {
  readonly s3: S3Client;
  /** Sends on the request queue, batching concurrent requests. */
  readonly requests: RequestSender;
  readonly router: ResponseRouter;
  readonly inBucket: string;
  readonly resultTimeoutSeconds: number;
}

export interface Submission {
  readonly requestId: string;
  readonly key: string;
  readonly stem: string;
  readonly bytes: Uint8Array;
  readonly contentType: string;
  readonly task: RequestMessage['task'];
  readonly faces: RequestMessage['faces'];
  /** Called once the image is stored and the message sent. */
  readonly onQueued?: (timings: { storedAt: number; queuedAt: number }) => void;
}

/** Resolves with the worker's response, or rejects with STORAGE_UNAVAILABLE or a result timeout. */
export async function submit(deps: SubmitDeps, s: Submission): Promise<ResponseMessage> {
  const result = deps.router.wait(s.requestId, deps.resultTimeoutSeconds * 1000);
  // The waiter may time out while we are still storing; mark the rejection handled, it is awaited below.
  result.catch(() => undefined);
  try {
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.inBucket,
        Key: s.key,
        Body: s.bytes,
        ContentType: s.contentType,
        Metadata: { 'request-id': s.requestId },
      }),
    );
    const storedAt = performance.now();
    await deps.requests.send(
      encodeRequest({
        v: MESSAGE_VERSION,
        requestId: s.requestId,
        key: s.key,
        stem: s.stem,
        sentAt: Date.now(),
        task: s.task,
        faces: s.faces,
      }),
    );
    s.onQueued?.({ storedAt, queuedAt: performance.now() });
  } catch (err) {
    deps.router.cancel(s.requestId);
    throw new AppError('STORAGE_UNAVAILABLE', {}, err);
  }
  return result;
}
