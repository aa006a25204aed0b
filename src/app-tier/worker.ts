/**
 * The app-tier worker loop: long-poll the request queue, recognise each image, store the label in the
 * out-bucket, send the result, and only then delete the request. Downloads of a batch overlap with
 * recognition; inference itself runs one image at a time (one core per worker).
 *
 * Failures that trying again cannot fix (not an image, no face, no gallery) are answered at once and the
 * message deleted. Others (an S3 or SQS hiccup) leave the message to come back after its visibility timeout;
 * on its last allowed receive the worker answers with an error instead, so no request waits for nothing.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
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
  type ResponseMessage,
} from '../shared/messages.js';
import { encodeVector } from '../shared/gallery.js';
import { roundAllMs } from '../shared/timing.js';
import type { GalleryStore } from './gallery-store.js';
import type { Face, RecognitionEngine } from './recognition/engine.js';
import { identify } from './recognition/gallery.js';
import { decodesCleanly } from './recognition/image.js';

export interface WorkerOptions {
  readonly workerId: string;
  /** Client for the long poll only, so that it never holds a socket the replies need. */
  readonly pollSqs: SQSClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly engine: RecognitionEngine;
  readonly galleries: GalleryStore;
  readonly logger: Logger;
  readonly requestQueueUrl: string;
  readonly responseQueueUrl: string;
  readonly outBucket: string;
  readonly inBucket: string;
  readonly batchSize: number;
  readonly waitTimeSeconds: number;
  /** Similarity below which a face is "Unknown"; undefined: always the nearest person. */
  readonly matchThreshold: number | undefined;
  /** Most faces embedded for an answer that lists every face. */
  readonly maxFaces: number;
  /** The queue's redrive maxReceiveCount: the receive on which a retryable failure is answered, not retried. */
  readonly maxReceiveCount: number;
}

export class Worker {
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: WorkerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops taking messages once the open long poll ends (at most `waitTimeSeconds`), and finishes whatever it
   * and earlier polls brought. The poll is not aborted: on SQS and fauxqs an aborted poll can still take a
   * message, which would then stay hidden for the whole visibility timeout.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger } = this.o;
    while (this.running) {
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await this.o.pollSqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.o.requestQueueUrl,
            MaxNumberOfMessages: this.o.batchSize,
            WaitTimeSeconds: this.o.waitTimeSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        ));
      } catch (err) {
        if (!this.running) break;
        logger.error({ err }, 'receiving from the request queue failed; retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (messages.length > 0) await this.processBatch(messages);
    }
  }

  private async processBatch(messages: Message[]): Promise<void> {
    // Start every download now; recognition then takes them one by one as they arrive.
    const jobs = messages.map((m) => {
      const request = decodeRequest(m.Body);
      return { m, request, image: request ? this.download(request) : undefined };
    });
    for (const job of jobs) job.image?.catch(() => undefined);
    const done: Reply[] = [];
    for (const { m, request, image } of jobs) {
      if (!request || !image) {
        this.o.logger.error(
          { messageId: m.MessageId, body: m.Body?.slice(0, 200) },
          'deleting a malformed request message',
        );
        done.push({ m });
        continue;
      }
      // No response means "try again later": leave the message to reappear after its visibility timeout.
      const response = await this.recognize(m, request, image);
      if (response) done.push({ m, response });
    }
    await this.finish(done);
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

  /** The response to send, or `undefined` to leave the message for another attempt. */
  private async recognize(
    m: Message,
    request: RequestMessage,
    image: Promise<Download>,
  ): Promise<ResponseMessage | undefined> {
    const log = this.o.logger.child({ requestId: request.requestId, messageId: m.MessageId });
    const base = { v: MESSAGE_VERSION, requestId: request.requestId, stem: '', workerId: this.o.workerId };
    const timings: Record<string, number> = { queueMs: Math.max(0, Date.now() - request.sentAt) };
    try {
      const { bytes, fileName, ms } = await image;
      // The course's out-bucket layout: key = the upload's file stem.
      base.stem = fileStem(fileName);
      timings['downloadMs'] = ms;
      const result = request.task === 'enroll' ? await this.embed(bytes) : await this.match(request, bytes);
      Object.assign(timings, result.timings);
      if (result.label !== undefined) {
        const storeStarted = performance.now();
        await this.o.s3.send(
          new PutObjectCommand({
            Bucket: this.o.outBucket,
            Key: base.stem,
            Body: result.label,
            ContentType: 'text/plain; charset=utf-8',
            Metadata: { 'request-id': request.requestId, 'input-key': encodeURIComponent(request.key) },
          }),
        );
        timings['storeMs'] = performance.now() - storeStarted;
      }
      log.info(
        {
          task: request.task,
          label: result.label,
          similarity: result.similarity === undefined ? undefined : Number(result.similarity.toFixed(3)),
          faces: result.facesFound,
          timings: roundAllMs(timings),
        },
        'done',
      );
      return { ...base, ...result, status: 'ok', task: request.task, timings: roundAllMs(timings) };
    } catch (err) {
      if (err instanceof AppError && !err.retryable) {
        log.info({ code: err.code }, 'answering with a permanent error');
        return { ...base, status: 'error', code: err.code, params: err.params, timings: roundAllMs(timings) };
      }
      const receives = Number(m.Attributes?.ApproximateReceiveCount ?? '1');
      if (receives >= this.o.maxReceiveCount) {
        log.error({ err, receives }, 'failed on its last allowed attempt; answering with an error');
        return {
          ...base,
          status: 'error',
          code: 'RECOGNITION_FAILED',
          params: { attempts: receives },
          timings: roundAllMs(timings),
        };
      }
      log.warn({ err, receives }, 'failed; the message will be retried after its visibility timeout');
      return undefined;
    }
  }

  /**
   * Recognize: every face (or only the subject) matched against the gallery; the subject's label is the
   * answer. Refused without a gallery or a face.
   */
  private async match(request: RequestMessage, bytes: Uint8Array) {
    // With no gallery yet, look again before refusing: one may have been enrolled since the last refresh.
    if (!this.o.galleries.current()) await this.o.galleries.refresh();
    const gallery = this.o.galleries.current();
    if (!gallery || gallery.size === 0) throw new AppError('GALLERY_EMPTY');
    const analysis = await this.o.engine.analyze(bytes, request.faces === 'all' ? this.o.maxFaces : 1);
    if (analysis.faces.length === 0) {
      await refuseIfDamaged(bytes);
      throw new AppError('NO_FACE');
    }
    const matchStarted = performance.now();
    const faces = analysis.faces.map((face) => {
      const { label, similarity, candidates } = identify(gallery.search(face.embedding, 3), this.o.matchThreshold);
      return {
        ...describeFace(face),
        label,
        similarity: roundSimilarity(similarity),
        candidates: candidates.map((c) => ({ name: c.name, similarity: roundSimilarity(c.similarity) })),
      };
    });
    const subject = faces[0]!;
    return {
      image: { width: analysis.width, height: analysis.height },
      facesFound: analysis.facesFound,
      faces,
      label: subject.label,
      similarity: subject.similarity,
      galleryVersion: gallery.version,
      timings: { ...analysis.timings, matchMs: performance.now() - matchStarted },
    };
  }

  /**
   * Enroll: the faces' embeddings, for the web tier to add to the gallery. Two are enough to tell "one face"
   * from "several"; `facesFound` says how many there were.
   */
  private async embed(bytes: Uint8Array) {
    const analysis = await this.o.engine.analyze(bytes, 2);
    if (analysis.facesFound === 0) await refuseIfDamaged(bytes);
    return {
      image: { width: analysis.width, height: analysis.height },
      facesFound: analysis.facesFound,
      faces: analysis.faces.map((face) => ({ ...describeFace(face), embedding: encodeVector(face.embedding) })),
      label: undefined,
      similarity: undefined,
      timings: analysis.timings,
    };
  }

  /**
   * Sends the batch's responses in one call, then deletes in one call the requests whose response went out
   * (and the malformed ones). Two calls per batch instead of two per message: on a loaded machine every
   * HTTP exchange with SQS costs CPU that recognition needs. A message whose reply failed is not deleted, so
   * it is processed again after its visibility timeout.
   */
  private async finish(replies: readonly Reply[]): Promise<void> {
    if (replies.length === 0) return;
    const { logger } = this.o;
    const answered = replies.filter((r) => r.response);
    const sendFailed = new Set<string>();
    if (answered.length > 0) {
      try {
        const { Failed = [] } = await this.o.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.o.responseQueueUrl,
            Entries: answered.map((r, i) => ({ Id: String(i), MessageBody: encodeResponse(r.response!) })),
          }),
        );
        for (const f of Failed) {
          const reply = answered[Number(f.Id)]!;
          sendFailed.add(reply.m.MessageId!);
          logger.error({ messageId: reply.m.MessageId, code: f.Code, reason: f.Message }, 'could not send a result');
        }
      } catch (err) {
        logger.error({ err, messages: answered.length }, 'could not send results; the requests will be retried');
        for (const r of answered) sendFailed.add(r.m.MessageId!);
      }
    }
    const toDelete = replies.filter((r) => !sendFailed.has(r.m.MessageId!));
    if (toDelete.length === 0) return;
    try {
      const { Failed = [] } = await this.o.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.o.requestQueueUrl,
          Entries: toDelete.map((r, i) => ({ Id: String(i), ReceiptHandle: r.m.ReceiptHandle! })),
        }),
      );
      for (const f of Failed)
        logger.warn({ failed: f }, 'could not delete an answered request; it may be answered twice');
    } catch (err) {
      logger.error({ err }, 'could not delete answered requests; they may be answered twice');
    }
  }
}

/** Asked when no face was found: a picture that decodes only with codec warnings is damaged, not faceless. */
async function refuseIfDamaged(bytes: Uint8Array): Promise<void> {
  if (!(await decodesCleanly(bytes))) throw new AppError('INVALID_IMAGE');
}

/** A face's box (rounded to 0.1 px) and detection score, as responses carry them. */
function describeFace(face: Face) {
  const r = (v: number) => Math.round(v * 10) / 10;
  const { x1, y1, x2, y2 } = face.box;
  return {
    box: [r(x1), r(y1), r(x2), r(y2)] as [number, number, number, number],
    score: Math.round(face.score * 1000) / 1000,
  };
}

/** Four decimals: finer than any threshold anyone sets, and answers stay readable. */
function roundSimilarity(similarity: number): number {
  return Math.round(similarity * 10_000) / 10_000;
}

interface Download {
  readonly bytes: Uint8Array;
  readonly fileName: string;
  readonly ms: number;
}

/** A message that is done with: its response to send, or none for a malformed message that is only deleted. */
interface Reply {
  readonly m: Message;
  readonly response?: ResponseMessage;
}
