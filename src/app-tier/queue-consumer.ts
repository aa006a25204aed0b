/**
 * A generic SQS request/reply consumer: long-poll a queue, hand each message to a handler, send the replies
 * to a reply queue and only then delete the requests, both in batches. It knows nothing of what a message
 * means (faces, galleries): the handler does. Whether a failed message is retried is `decideRetry`'s call.
 *
 * The handler sees a whole batch first (`accept`), so that it can start what overlaps (downloads), then each
 * message in turn (`handle`): work itself runs one message at a time.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from '../shared/logger.js';
import { PollLoop } from '../shared/poll-loop.js';
import { SQS_MAX_BATCH } from '../shared/config/settings.js';
import { decideRetry, type FinalDecision } from './retry-decision.js';
import { isNotFound } from '../shared/aws/clients.js';

/** What a consumer needs from whoever gives messages their meaning. */
export interface MessageHandler<Job> {
  /**
   * Reads a message and may start work that overlaps with the batch's others (a download). `undefined`: the
   * message is malformed; it is deleted without a reply (no reply could reach anyone). `null`: a message that
   * is not work (an S3 test event), deleted without a word.
   */
  accept(message: Message): Job | undefined | null;
  /**
   * Does the job; resolves with the reply's body, or `null` when nobody waits for one (the message is only
   * deleted). A throw is a failure, retried or not by `decideRetry`.
   */
  handle(job: Job): Promise<string | null>;
  /** The reply's body for a failure that is not retried (refused, or given up); `null`: nobody to tell. */
  replyToFailure(job: Job, decision: FinalDecision): string | null;
  /** What the consumer's log lines about this job carry besides the message id (a request id). */
  logContext(job: Job): Record<string, unknown>;
  /**
   * The name of the queue the job's reply goes to, when the request says (a web process's own queue);
   * `undefined`: the consumer's `replyQueueUrl`. `null`: the request names a queue that is not ours, so no
   * reply can go anywhere (the request is deleted all the same).
   */
  replyQueue?(job: Job): string | null | undefined;
}

/** Turns reply queue names into URLs; a queue that is gone is `undefined` (its owner stopped or died). */
export interface ReplyQueueDirectory {
  urlOf(name: string): Promise<string | undefined>;
  /** Told that `replies` for `name` found it gone: forget it, and say so once. */
  gone(name: string, replies: number): void;
}

export interface QueueConsumerOptions<Job> {
  readonly queueUrl: string;
  /** Where replies go unless the handler names a queue (`MessageHandler.replyQueue`). */
  readonly replyQueueUrl: string;
  /** Resolves the queues handlers name; without it, every reply goes to `replyQueueUrl`. */
  readonly replyQueues?: ReplyQueueDirectory;
  /** Client for the long poll only, so that it never holds a socket the replies need. */
  readonly pollSqs: SQSClient;
  readonly sqs: SQSClient;
  readonly handler: MessageHandler<Job>;
  readonly logger: Logger;
  /** Messages per receive (SQS: 1 to 10). */
  readonly batchSize: number;
  /** Long-poll wait of each receive, in seconds (SQS: 0 to 20). */
  readonly waitTimeSeconds: number;
  /** The queue's redrive maxReceiveCount: the receive on which a failure is answered, not retried. */
  readonly maxReceiveCount: number;
  /**
   * The visibility heartbeat: every `heartbeatSeconds`, the messages of the batch in hand that are not done yet
   * are made invisible for `visibilityTimeoutSeconds` more, so that a batch slower than the queue's timeout is
   * never handed to a second worker. Undefined: no heartbeat.
   */
  readonly heartbeat?: { readonly heartbeatSeconds: number; readonly visibilityTimeoutSeconds: number };
  /** Pause after a failed receive, in milliseconds; default 1000. */
  readonly receiveBackoffMs?: number;
  /** Told what became of each message (for the worker's metrics). */
  readonly onOutcome?: (outcome: MessageOutcome) => void;
  /** Told of each heartbeat: how many messages it extended (for tests and metrics). */
  readonly onHeartbeat?: (extended: number) => void;
}

/**
 * What became of a message: answered with the handler's reply; refused at once or given up after its last
 * attempt (both answered with an error); left for a retry; or malformed and deleted without a reply.
 */
export const MESSAGE_OUTCOMES = ['answered', 'refused', 'given-up', 'retried', 'malformed'] as const;
export type MessageOutcome = (typeof MESSAGE_OUTCOMES)[number];

/**
 * A message that is done with: its reply to send and the name of the queue it goes to (undefined: the
 * default), or no reply for a malformed message that is only deleted.
 */
interface Done {
  readonly message: Message;
  readonly reply?: string;
  readonly replyTo?: string | null;
}

export class QueueConsumer<Job> {
  private readonly loop: PollLoop;
  private held = 0;
  private receivedTotal = 0;
  private busyTotalMs = 0;

  constructor(private readonly options: QueueConsumerOptions<Job>) {
    this.loop = new PollLoop({
      round: () => this.receiveAndHandle(),
      backoffMs: () => options.receiveBackoffMs ?? 1000,
      onError: (err) => options.logger.error({ err }, 'receiving from the queue failed; retrying'),
      abortRoundOnStop: false,
    });
  }

  start(): void {
    this.loop.start();
  }

  /**
   * Stops taking messages once the open long poll ends (at most `waitTimeSeconds`), and finishes whatever it
   * and earlier polls brought. The poll is not aborted (see PollLoopOptions.abortRoundOnStop).
   */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Messages received and not yet finished with: 0 means the consumer is idle. */
  get holding(): number {
    return this.held;
  }

  /** Messages received since start (the autoscaler's arrivals, on the local fleet). */
  get received(): number {
    return this.receivedTotal;
  }

  /** Milliseconds spent on batches since start, from receive to the last delete: its time per message. */
  get busyMs(): number {
    return this.busyTotalMs;
  }

  private async receiveAndHandle(): Promise<void> {
    const { Messages: messages = [] } = await this.options.pollSqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: this.options.batchSize,
        WaitTimeSeconds: this.options.waitTimeSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    if (messages.length > 0) await this.handleBatch(messages);
  }

  private async handleBatch(messages: readonly Message[]): Promise<void> {
    this.held += messages.length;
    this.receivedTotal += messages.length;
    const started = performance.now();
    // The messages whose visibility the heartbeat keeps extending: those not yet done with.
    const pending = new Map(messages.map((m) => [m.MessageId!, m]));
    const heartbeat = this.startHeartbeat(pending);
    try {
      await this.handleEach(messages, pending);
    } finally {
      clearInterval(heartbeat);
      this.held -= messages.length;
      this.busyTotalMs += performance.now() - started;
    }
  }

  private startHeartbeat(pending: Map<string, Message>): NodeJS.Timeout | undefined {
    const beat = this.options.heartbeat;
    if (!beat) return undefined;
    let inFlight = false;
    return setInterval(() => {
      if (inFlight || pending.size === 0) return;
      inFlight = true;
      void this.extend([...pending.values()], beat.visibilityTimeoutSeconds).finally(() => (inFlight = false));
    }, beat.heartbeatSeconds * 1000);
  }

  /** Extends the visibility of messages still held, in batches of ten; a failure is logged, not fatal. */
  private async extend(messages: readonly Message[], seconds: number): Promise<void> {
    let extended = 0;
    for (let i = 0; i < messages.length; i += SQS_MAX_BATCH) {
      const batch = messages.slice(i, i + SQS_MAX_BATCH);
      try {
        const { Failed = [] } = await this.options.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: batch.map((m, j) => ({
              Id: String(j),
              ReceiptHandle: m.ReceiptHandle!,
              VisibilityTimeout: seconds,
            })),
          }),
        );
        extended += batch.length - Failed.length;
        for (const f of Failed)
          this.options.logger.warn({ code: f.Code, reason: f.Message }, 'could not extend a held message’s visibility');
      } catch (err) {
        this.options.logger.warn({ err, messages: batch.length }, 'could not extend the visibility of held messages');
      }
    }
    this.options.onHeartbeat?.(extended);
  }

  private async handleEach(messages: readonly Message[], pending: Map<string, Message>): Promise<void> {
    const jobs = messages.map((message) => ({ message, job: this.options.handler.accept(message) }));
    const done: Done[] = [];
    for (const { message, job } of jobs) {
      if (job === undefined || job === null) {
        if (job === undefined)
          this.options.logger.error(
            { messageId: message.MessageId, body: message.Body?.slice(0, 200) },
            'deleting a malformed message without a reply',
          );
        this.options.onOutcome?.('malformed');
        pending.delete(message.MessageId!);
        done.push({ message });
        continue;
      }
      const reply = await this.handleOne(message, job);
      // Answered (its reply goes with the batch's) or given up for a later attempt: no longer extended, so
      // that a retry comes back when its current visibility ends.
      if (reply === undefined) pending.delete(message.MessageId!);
      else done.push({ message, reply: reply ?? undefined, replyTo: this.options.handler.replyQueue?.(job) });
    }
    await this.finish(done);
  }

  /** The reply to send (`null`: none, only delete), or `undefined` to leave the message for another attempt. */
  private async handleOne(message: Message, job: Job): Promise<string | null | undefined> {
    try {
      const reply = await this.options.handler.handle(job);
      this.options.onOutcome?.('answered');
      return reply;
    } catch (err) {
      const receives = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
      const decision = decideRetry(err, receives, this.options.maxReceiveCount);
      const log = this.options.logger.child({ ...this.options.handler.logContext(job), messageId: message.MessageId });
      this.options.onOutcome?.(
        ({ refuse: 'refused', 'give-up': 'given-up', retry: 'retried' } as const)[decision.kind],
      );
      switch (decision.kind) {
        case 'refuse':
          log.info({ code: decision.error.code }, 'answering with a permanent error');
          return this.options.handler.replyToFailure(job, decision);
        case 'give-up':
          log.error({ err, receives }, 'failed on its last allowed attempt; answering with an error');
          return this.options.handler.replyToFailure(job, decision);
        case 'retry':
          log.warn({ err, receives }, 'failed; the message will be retried after its visibility timeout');
          return undefined;
      }
    }
  }

  /**
   * Sends the batch's replies, one call per reply queue (one in all with one web process), then deletes in one
   * call the requests whose reply went out (and the malformed ones). Calls per batch instead of per message: on
   * a loaded machine every HTTP exchange with SQS costs CPU that the work needs. A message whose reply could not
   * be sent is not deleted, so it is handled again after its visibility timeout; a reply whose queue is gone
   * (its web process stopped or died, so nobody waits for it) is dropped, and its request deleted.
   */
  private async finish(done: readonly Done[]): Promise<void> {
    if (done.length === 0) return;
    const { logger } = this.options;
    const sendFailed = new Set<string>();
    for (const [queue, replies] of this.byReplyQueue(done)) await this.sendReplies(queue, replies, sendFailed);
    const toDelete = done.filter((d) => !sendFailed.has(d.message.MessageId!));
    if (toDelete.length === 0) return;
    try {
      const { Failed = [] } = await this.options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: toDelete.map((d, i) => ({ Id: String(i), ReceiptHandle: d.message.ReceiptHandle! })),
        }),
      );
      for (const f of Failed)
        logger.warn({ failed: f }, 'could not delete an answered request; it may be answered twice');
    } catch (err) {
      logger.error({ err }, 'could not delete answered requests; they may be answered twice');
    }
  }

  /** The answered messages by the name of their reply queue ('' for the default); unaddressable ones dropped. */
  private byReplyQueue(done: readonly Done[]): Map<string, Done[]> {
    const groups = new Map<string, Done[]>();
    for (const d of done) {
      if (d.reply === undefined) continue;
      if (d.replyTo === null) {
        this.options.logger.warn(
          { messageId: d.message.MessageId },
          'the request names a reply queue that is not one of ours; its reply is dropped',
        );
        continue;
      }
      const key = d.replyTo ?? '';
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    return groups;
  }

  /** Sends one queue's replies in one call; adds to `failed` the messages to handle again. */
  private async sendReplies(queue: string, replies: readonly Done[], failed: Set<string>): Promise<void> {
    const { logger, replyQueues } = this.options;
    let url: string | undefined = this.options.replyQueueUrl;
    try {
      if (queue !== '' && replyQueues) url = await replyQueues.urlOf(queue);
      if (url === undefined) return replyQueues!.gone(queue, replies.length);
      const { Failed = [] } = await this.options.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: replies.map((d, i) => ({ Id: String(i), MessageBody: d.reply! })),
        }),
      );
      for (const f of Failed) {
        const { message } = replies[Number(f.Id)]!;
        failed.add(message.MessageId!);
        logger.error({ messageId: message.MessageId, code: f.Code, reason: f.Message }, 'could not send a result');
      }
    } catch (err) {
      if (queue !== '' && replyQueues && isNotFound(err)) return replyQueues.gone(queue, replies.length);
      logger.error({ err, messages: replies.length }, 'could not send results; the requests will be retried');
      for (const d of replies) failed.add(d.message.MessageId!);
    }
  }
}
