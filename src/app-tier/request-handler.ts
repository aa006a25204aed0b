/**
 * What a request message means to the app tier: download its image from the in-bucket, run its task
 * (`recognize`, `enroll`: tasks/), store the label in the out-bucket under the upload's stem, and shape the
 * response message. The queue consumer decides when this runs and what happens to failures.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';
import { isNotFound } from '../shared/aws.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import {
  decodeFileNameMetadata,
  decodeRequest,
  encodeResponse,
  FILE_NAME_METADATA,
  fileStem,
  MESSAGE_VERSION,
  type RequestMessage,
} from '../shared/messages.js';
import { roundAllMs } from '../shared/timing.js';
import type { MessageHandler } from './queue-consumer.js';
import type { FinalDecision } from './retry-decision.js';
import type { TaskHandler } from './tasks/task.js';

export interface RequestHandlerOptions {
  readonly workerId: string;
  readonly s3: S3Client;
  readonly inBucket: string;
  readonly outBucket: string;
  /** One handler per task a request message may name. */
  readonly tasks: Readonly<Record<RequestMessage['task'], TaskHandler>>;
  readonly logger: Logger;
  /** Told the stage timings of each message handled (for the worker's metrics). */
  readonly onHandled?: (task: RequestMessage['task'], timings: Readonly<Record<string, number>>) => void;
}

/** One request in hand: its message, the download already under way, and what is known so far. */
interface RequestJob {
  readonly messageId: string | undefined;
  readonly request: RequestMessage;
  readonly image: Promise<Download>;
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
  constructor(private readonly o: RequestHandlerOptions) {}

  accept(message: Message): RequestJob | undefined {
    const request = decodeRequest(message.Body);
    if (!request) return undefined;
    const image = this.download(request);
    // Awaited in `handle`, maybe after others' work: never an unhandled rejection meanwhile.
    image.catch(() => undefined);
    return { messageId: message.MessageId, request, image, stem: '', timings: {} };
  }

  async handle(job: RequestJob): Promise<string> {
    const { request, timings } = job;
    // Time since the web tier sent it, until this worker starts on it (batch-mates ahead of it included).
    timings['queueMs'] = Math.max(0, Date.now() - request.sentAt);
    const { bytes, fileName, ms } = await job.image;
    // The course's out-bucket layout: key = the upload's file stem.
    job.stem = fileStem(fileName);
    timings['downloadMs'] = ms;
    const result = await this.o.tasks[request.task](request, bytes, timings);
    if (result.label !== undefined) {
      const storeStarted = performance.now();
      await this.o.s3.send(
        new PutObjectCommand({
          Bucket: this.o.outBucket,
          Key: job.stem,
          Body: result.label,
          ContentType: 'text/plain; charset=utf-8',
          Metadata: { 'request-id': request.requestId, 'input-key': encodeURIComponent(request.key) },
        }),
      );
      timings['storeMs'] = performance.now() - storeStarted;
    }
    this.o.onHandled?.(request.task, timings);
    this.o.logger.info(
      {
        requestId: request.requestId,
        messageId: job.messageId,
        task: request.task,
        label: result.label,
        similarity: result.similarity === undefined ? undefined : Number(result.similarity.toFixed(3)),
        faces: result.facesFound,
        timings: roundAllMs(timings),
      },
      'done',
    );
    return encodeResponse({ ...this.base(job), ...result, status: 'ok', task: request.task });
  }

  replyToFailure(job: RequestJob, decision: FinalDecision): string {
    const { code, params } =
      decision.kind === 'refuse'
        ? decision.error
        : { code: 'RECOGNITION_FAILED' as const, params: { attempts: decision.attempts } };
    return encodeResponse({ ...this.base(job), status: 'error', code, params });
  }

  logContext(job: RequestJob): Record<string, unknown> {
    return { requestId: job.request.requestId };
  }

  private base(job: RequestJob) {
    return {
      v: MESSAGE_VERSION,
      requestId: job.request.requestId,
      stem: job.stem,
      workerId: this.o.workerId,
      timings: roundAllMs(job.timings),
    };
  }

  /** The image, and its whole file name from its metadata (the key holds only what fits the message). */
  private async download(request: RequestMessage): Promise<Download> {
    const started = performance.now();
    // S3 reads its writes, so a missing image will not appear later: it was deleted (its enrollment's client
    // left) or expired. Answered at once, not retried for minutes.
    const object = await this.o.s3
      .send(new GetObjectCommand({ Bucket: this.o.inBucket, Key: request.key }))
      .catch((err: unknown) => {
        throw isNotFound(err) ? new AppError('IMAGE_GONE', {}, err) : err;
      });
    const bytes = await object.Body!.transformToByteArray();
    const fileName =
      decodeFileNameMetadata(object.Metadata?.[FILE_NAME_METADATA]) ??
      request.key.slice(request.key.lastIndexOf('/') + 1);
    return { bytes, fileName, ms: performance.now() - started };
  }
}
