/**
 * What a request message means to the app tier: fetch its input from the in-bucket as its task takes it (bytes
 * downloaded with the batch, or a file downloaded when its turn comes: tasks/task.ts), run the task, store what
 * it stores in the out-bucket, and shape the response message. It knows no task by name: the table of tasks is
 * the worker's (compose-worker.ts). An S3 event for a video put under `videos/` (the video queue, on AWS) is a
 * request that nobody waits for: what it stores is its answer, no reply is sent, and a refusal is stored beside
 * it. The queue consumer decides when this runs and what happens to failures.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';
import { isNotFound } from '../shared/aws/clients.js';
import { AppError } from '../shared/wire/errors.js';
import { replyQueueOfRequest } from '../shared/wire/reply-queues.js';
import type { Logger } from '../shared/logger.js';
import {
  decodeFileNameMetadata,
  decodeRequest,
  encodeResponse,
  FILE_NAME_METADATA,
  fileStem,
  MESSAGE_VERSION,
  refusalKey,
  type RequestMessage,
} from '../shared/wire/messages.js';
import { roundAllMs } from '../shared/wire/timing.js';
import type { MessageHandler } from './queue-consumer.js';
import type { FinalDecision } from './retry-decision.js';
import type { Task, TaskInput } from './tasks/task.js';
import { isS3TestEvent, requestFromS3Event } from './tasks/video/s3-events.js';

export interface RequestHandlerOptions {
  readonly workerId: string;
  readonly s3: S3Client;
  readonly inBucket: string;
  readonly outBucket: string;
  /** The task each name a request message may give. */
  readonly tasks: Readonly<Record<RequestMessage['task'], Task>>;
  readonly logger: Logger;
  /** The resource prefix and canonical response queue, to check where a request asks its reply to go. */
  readonly replyNames: { readonly prefix: string; readonly responseQueue: string };
  /** Told the stage timings of each message handled (for the worker's metrics). */
  readonly onHandled?: (task: RequestMessage['task'], timings: Readonly<Record<string, number>>) => void;
}

/** One request in hand: its message, the download already under way, and what is known so far. */
interface RequestJob {
  readonly messageId: string | undefined;
  readonly request: RequestMessage;
  readonly task: Task;
  /** A `bytes` task's download, started with the batch; undefined for a `file` task (downloaded when handled). */
  readonly image: Promise<Download> | undefined;
  /** From an S3 event: nobody waits for a reply. */
  readonly fromS3Event: boolean;
  /** The upload's file stem, once the download has said it ('' before). */
  stem: string;
  readonly timings: Record<string, number>;
}

interface Download {
  readonly bytes: Uint8Array;
  readonly fileName: string;
  readonly ms: number;
}

export class RequestHandler implements MessageHandler<RequestJob> {
  constructor(private readonly options: RequestHandlerOptions) {}

  accept(message: Message): RequestJob | undefined | null {
    const sent = decodeRequest(message.Body);
    const request = sent ?? requestFromS3Event(message.Body, this.options.inBucket);
    if (!request) {
      if (!isS3TestEvent(message.Body)) return undefined;
      this.options.logger.info('S3 says the video notification is configured');
      return null;
    }
    const task = this.options.tasks[request.task];
    const image = task.input === 'bytes' ? this.download(request) : undefined;
    // Awaited in `handle`, maybe after others' work: never an unhandled rejection meanwhile.
    image?.catch(() => undefined);
    return { messageId: message.MessageId, request, task, image, fromS3Event: !sent, stem: '', timings: {} };
  }

  async handle(job: RequestJob): Promise<string | null> {
    const { request, timings } = job;
    // Time since the web tier sent it, until this worker starts on it (batch-mates ahead of it included).
    timings['queueMs'] = Math.max(0, Date.now() - request.sentAt);
    const { input, cleanUp } = await this.inputOf(job);
    try {
      const outcome = await job.task.run(input, timings);
      if (outcome.store) await this.store(job, outcome.store.key, outcome.store.body, outcome.store.contentType);
      this.options.onHandled?.(request.task, timings);
      this.options.logger.info(
        {
          requestId: request.requestId,
          messageId: job.messageId,
          task: request.task,
          ...(job.fromS3Event ? { fromS3Event: true } : {}),
          ...outcome.log,
          timings: roundAllMs(timings),
        },
        'done',
      );
      if (job.fromS3Event) return null;
      return encodeResponse({ ...this.base(job), ...outcome.reply, status: 'ok', task: request.task });
    } finally {
      await cleanUp();
    }
  }

  replyToFailure(job: RequestJob, decision: FinalDecision): string | null {
    const { code, params } =
      decision.kind === 'refuse'
        ? decision.error
        : { code: 'RECOGNITION_FAILED' as const, params: { attempts: decision.attempts } };
    if (job.fromS3Event) {
      // Nobody waits for a video S3 announced: why it failed goes beside where its CSV would be.
      void this.storeRefusal(job, AppError.fromReport(code, params));
      return null;
    }
    return encodeResponse({ ...this.base(job), status: 'error', code, params });
  }

  logContext(job: RequestJob): Record<string, unknown> {
    return { requestId: job.request.requestId };
  }

  replyQueue(job: RequestJob): string | null | undefined {
    return replyQueueOfRequest(this.options.replyNames, job.request.replyTo);
  }

  private base(job: RequestJob) {
    return {
      v: MESSAGE_VERSION,
      requestId: job.request.requestId,
      stem: job.stem,
      workerId: this.options.workerId,
      timings: roundAllMs(job.timings),
    };
  }

  /**
   * The job's input as its task takes it: the bytes its batch downloaded, or its object written to a file of a
   * directory of its own (refused above the task's size before a byte is read), removed by `cleanUp`.
   */
  private async inputOf(job: RequestJob): Promise<{ input: TaskInput; cleanUp: () => Promise<void> }> {
    const { request, timings } = job;
    if (job.image) {
      const { bytes, fileName, ms } = await job.image;
      // The course's out-bucket layout: key = the upload's file stem.
      job.stem = fileStem(fileName);
      timings['downloadMs'] = ms;
      return { input: { kind: 'bytes', request, fileName, stem: job.stem, bytes }, cleanUp: async () => undefined };
    }
    const limit = job.task.input as Exclude<Task['input'], 'bytes'>;
    const started = performance.now();
    const { object, fileName } = await this.openInput(request);
    job.stem = fileStem(fileName);
    const body = object.Body as Readable;
    const size = object.ContentLength ?? 0;
    if (size > limit.maxBytes) {
      body.destroy();
      throw limit.tooLarge(limit.maxBytes);
    }
    const dir = await mkdtemp(join(tmpdir(), 'facefleet-download-'));
    const cleanUp = () => rm(dir, { recursive: true, force: true });
    try {
      const path = join(dir, 'input');
      await pipeline(body, createWriteStream(path));
      timings['downloadMs'] = performance.now() - started;
      return { input: { kind: 'file', request, fileName, stem: job.stem, path, size }, cleanUp };
    } catch (err) {
      await cleanUp();
      throw err;
    }
  }

  /** The answer in the out-bucket under `key`, with where it came from; its time is the `store` stage. */
  private async store(job: RequestJob, key: string, body: string, contentType: string): Promise<void> {
    const started = performance.now();
    await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.outBucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        Metadata: { 'request-id': job.request.requestId, 'input-key': encodeURIComponent(job.request.key) },
      }),
    );
    job.timings['storeMs'] = performance.now() - started;
  }

  /**
   * `refusals/<stem>.txt` in the out-bucket (refusalKey): the sentence of a video put under `videos/` that was refused, or given up
   * after its last attempt.
   */
  private async storeRefusal(job: RequestJob, err: AppError): Promise<void> {
    // The stem, even when the video could not be downloaded to read its name.
    const stem = job.stem || fileStem(keyFileName(job.request.key));
    const error = AppError.fromReport(err.code, { ...err.params, file: stem });
    await this.options.s3
      .send(
        new PutObjectCommand({
          Bucket: this.options.outBucket,
          Key: refusalKey(stem),
          Body: `${error.message}\n`,
          ContentType: 'text/plain; charset=utf-8',
          Metadata: { 'request-id': job.request.requestId, 'error-code': err.code },
        }),
      )
      .catch((storeErr: unknown) =>
        this.options.logger.warn({ err: storeErr, key: job.request.key }, 'could not store why a video was refused'),
      );
  }

  /** The image, and its whole file name. */
  private async download(request: RequestMessage): Promise<Download> {
    const started = performance.now();
    const { object, fileName } = await this.openInput(request);
    const bytes = await object.Body!.transformToByteArray();
    return { bytes, fileName, ms: performance.now() - started };
  }

  /**
   * The request's object in the in-bucket, not yet read, and its whole file name from its metadata (the key
   * holds only what fits the message; a video S3 announced has no metadata of ours, its key's name is its name).
   */
  private async openInput(request: RequestMessage) {
    // S3 reads its writes, so a missing object will not appear later: it was deleted (its enrollment's client
    // left) or expired. Answered at once, not retried for minutes.
    const object = await this.options.s3
      .send(new GetObjectCommand({ Bucket: this.options.inBucket, Key: request.key }))
      .catch((err: unknown) => {
        throw isNotFound(err) ? new AppError('IMAGE_GONE', {}, err) : err;
      });
    const fileName = decodeFileNameMetadata(object.Metadata?.[FILE_NAME_METADATA]) ?? keyFileName(request.key);
    return { object, fileName };
  }
}

/** The last segment of an in-bucket key: the file name it holds. */
function keyFileName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
