/**
 * The web tier's one way to the app tier, for every route: store an upload in the in-bucket under a key unique
 * to its request, send its key on the task's queue (images on the request queue, videos on the video queue),
 * and wait for the worker's response; forget a request whose client left; and say every failure as the
 * catalogue's error (storage, the task's own deadline, the worker's refusal naming the file). Recognition,
 * enrollment and videos all go this way, so enrollment runs on the same workers and engine as recognition.
 */
import { createReadStream } from 'node:fs';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Response } from 'express';
import { AppError, ResultTimeoutError } from '../../shared/wire/errors.js';
import type { Logger } from '../../shared/logger.js';
import {
  encodeFileNameMetadata,
  encodeRequest,
  FILE_NAME_METADATA,
  MESSAGE_VERSION,
  type RequestMessage,
  type ResponseMessage,
} from '../../shared/wire/messages.js';
import type { AnswerTimer } from '../requests/answer-timer.js';
import type { RequestSender } from './request-sender.js';
import type { ResponseRouter } from './response-router.js';

export interface AppTierClientDeps {
  readonly s3: S3Client;
  /** Sends on the request queue, batching concurrent requests. */
  readonly requests: RequestSender;
  /** Sends on the video queue, which workers poll beside the request queue: a video is long work, and images
   * must not wait behind it in a batch. */
  readonly videoRequests: RequestSender;
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

/** A worker's answer that did what was asked. */
export type Answer = Extract<ResponseMessage, { status: 'ok' }>;

export class AppTierClient {
  constructor(private readonly deps: AppTierClientDeps) {}

  /**
   * The worker's answer, or its refusal as the catalogue's error naming the file; STORAGE_UNAVAILABLE when
   * the upload could not be stored or queued; RESULT_TIMEOUT when no answer came within the task's deadline.
   */
  async ask(s: Submission): Promise<Answer> {
    return answered(await this.submit(s), s.fileName);
  }

  /** As `ask`, but a refusal is the worker's answer, returned, for routes that judge several answers together. */
  async submit(s: Submission): Promise<ResponseMessage> {
    const seconds = s.resultTimeoutSeconds ?? this.deps.resultTimeoutSeconds;
    return submit(this.deps, s, seconds).catch((err: unknown) => {
      if (err instanceof ResultTimeoutError) throw new AppError('RESULT_TIMEOUT', { seconds }, err);
      throw err;
    });
  }

  /** Forgets the requests when the client leaves before its answer: their answers, when they come, are dropped. */
  cancelWhenClientLeaves(res: Response, requestIds: readonly string[]): void {
    res.once('close', () => {
      if (!res.writableFinished) for (const id of requestIds) this.deps.router.cancel(id);
    });
  }
}

/** The answer, or the worker's refusal as the catalogue's error, naming the file the client sent. */
export function answered(answer: ResponseMessage, fileName: string): Answer {
  if (answer.status === 'error') throw AppError.fromReport(answer.code, { ...answer.params, file: fileName });
  return answer;
}

async function submit(deps: AppTierClientDeps, s: Submission, seconds: number): Promise<ResponseMessage> {
  const started = performance.now();
  const result = deps.router.wait(s.requestId, seconds * 1000);
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
    await (s.task === 'video' ? deps.videoRequests : deps.requests).send(
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
    await deleteUnqueued(deps, s.key);
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

/** Tries to delete an image that was stored but never queued, this often, for this long, until storage is back. */
const UNQUEUED_RETRY_MS = 5000;
const UNQUEUED_GIVE_UP_MS = 10 * 60_000;

/**
 * Deletes the image of an upload that could not be queued: now, or, when storage is down too (the emulator
 * restarting, S3 failing), every few seconds until it is back, for ten minutes. Nothing would ever read the image;
 * left, it would wait for the retention. The caller's answer does not wait for the later tries.
 */
async function deleteUnqueued(deps: AppTierClientDeps, key: string, since = Date.now()): Promise<void> {
  try {
    await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.inBucket, Key: key }));
  } catch (err) {
    if (Date.now() - since >= UNQUEUED_GIVE_UP_MS) {
      deps.logger.error(
        { err, key },
        'could not delete the image of an upload that was not queued; the retention will',
      );
      return;
    }
    deps.logger.warn({ err, key }, 'could not delete the image of an upload that was not queued yet; trying again');
    setTimeout(() => void deleteUnqueued(deps, key, since), UNQUEUED_RETRY_MS).unref();
  }
}
