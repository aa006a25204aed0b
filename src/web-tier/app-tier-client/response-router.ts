/**
 * Matches results to waiting HTTP requests. One `Map<requestId, waiter>`; a few long-poll loops on the
 * response queue, each with its own SQS client, resolve waiters and delete what they received in batches.
 * A result whose waiter has gone (deadline passed, client left, or an earlier web tier stopped before it
 * arrived) is still deleted, and logged once: its label stays in S3.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SQS_MAX_BATCH, SQS_MAX_WAIT_SECONDS } from '../../shared/config/settings.js';
import type { Logger } from '../../shared/logger.js';
import { decodeResponse, type ResponseMessage } from '../../shared/wire/messages.js';
import { PollLoop } from '../../shared/poll-loop.js';
import { ResultTimeoutError } from '../../shared/wire/errors.js';

/** The request's waiter was dropped (its client left, or it failed before it was queued). */
export class RequestCancelledError extends Error {
  constructor(readonly requestId: string) {
    super(`request ${requestId} was cancelled before its result arrived`);
    this.name = 'RequestCancelledError';
  }
}

interface Waiter {
  resolve(result: ResponseMessage): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export interface ResponseRouterOptions {
  readonly queueUrl: string;
  /** What request messages name as their reply queue; undefined: the canonical response queue. */
  readonly replyTo?: string;
  /** One SQS client per poll loop, so that a long poll never holds a socket another call needs. */
  readonly clients: readonly SQSClient[];
  readonly logger: Logger;
  /** Long-poll wait, seconds (SQS: at most 20). */
  readonly waitTimeSeconds?: number;
  /** Pause after a failed receive before trying again, milliseconds. */
  readonly errorBackoffMs?: number;
}

export class ResponseRouter {
  private readonly waiters = new Map<string, Waiter>();
  /** Request ids of recent results that found no waiter, so that a second delivery is not logged again. */
  private readonly unclaimed = new RecentIds(10_000);
  private readonly loops: PollLoop[];

  constructor(private readonly options: ResponseRouterOptions) {
    this.loops = options.clients.map(
      (client, loop) =>
        new PollLoop({
          round: (signal) => this.receive(client, loop, signal),
          backoffMs: () => options.errorBackoffMs ?? 1000,
          onError: (err) => options.logger.error({ err, loop }, 'receiving from the response queue failed; retrying'),
          abortRoundOnStop: true,
        }),
    );
  }

  get pending(): number {
    return this.waiters.size;
  }

  /** The queue this router receives from. */
  get queueUrl(): string {
    return this.options.queueUrl;
  }

  /** What a request message carries so that its reply comes here (undefined: the canonical queue). */
  get replyTo(): string | undefined {
    return this.options.replyTo;
  }

  /**
   * Registers a waiter before the request is sent, so that even an instant result finds it. Resolves with
   * the result, or rejects with `ResultTimeoutError` after `timeoutMs`.
   */
  wait(requestId: string, timeoutMs: number): Promise<ResponseMessage> {
    if (this.waiters.has(requestId)) throw new Error(`request ${requestId} already has a waiter`);
    return new Promise<ResponseMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        reject(new ResultTimeoutError(requestId));
      }, timeoutMs);
      this.waiters.set(requestId, { resolve, reject, timer });
    });
  }

  /**
   * Drops a waiter whose request failed before it was queued, or whose client left: its promise rejects with
   * `RequestCancelledError`, so that whoever awaits it can clean up (an enrollment deletes its photos).
   */
  cancel(requestId: string): void {
    const waiter = this.waiters.get(requestId);
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.waiters.delete(requestId);
    waiter.reject(new RequestCancelledError(requestId));
  }

  start(): void {
    for (const loop of this.loops) loop.start();
  }

  /**
   * Stops polling. Open long polls are aborted rather than awaited (up to 20 s); on SQS and fauxqs an aborted
   * poll may still take a message, which returns to the queue after its visibility timeout.
   */
  async stop(): Promise<void> {
    await Promise.all(this.loops.map((loop) => loop.stop()));
    for (const [id, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`response router stopped before ${id} was answered`));
    }
    this.waiters.clear();
  }

  /** One long poll: route what it brings, then delete it in one call. */
  private async receive(client: SQSClient, loop: number, signal: AbortSignal): Promise<void> {
    const { queueUrl, logger } = this.options;
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: SQS_MAX_BATCH,
        WaitTimeSeconds: this.options.waitTimeSeconds ?? SQS_MAX_WAIT_SECONDS,
      }),
      { abortSignal: signal },
    );
    if (Messages.length === 0) return;
    for (const m of Messages) this.route(m.Body, m.MessageId);
    const entries = Messages.filter((m) => m.ReceiptHandle).map((m, i) => ({
      Id: String(i),
      ReceiptHandle: m.ReceiptHandle!,
    }));
    const { Failed = [] } = await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    for (const f of Failed) logger.warn({ loop, failed: f }, 'could not delete a response message');
  }

  private route(body: string | undefined, messageId: string | undefined): void {
    const result = decodeResponse(body);
    if (!result) {
      this.options.logger.warn({ messageId }, 'dropping a response message that does not match the schema');
      return;
    }
    const waiter = this.waiters.get(result.requestId);
    if (!waiter) {
      // Its HTTP request is gone: its deadline passed, its client left, or the web tier that took it stopped
      // (a restart after a crash). The answer is final and the label is in the out-bucket; the message is
      // consumed all the same, so that nothing waits in the queue forever. Logged once per request.
      const first = this.unclaimed.add(result.requestId);
      const outcome = result.status === 'ok' ? { task: result.task, label: result.label } : { code: result.code };
      const fate =
        result.status === 'error'
          ? 'an error, so there is no label'
          : result.task === 'enroll'
            ? 'an enrollment: nothing was enrolled'
            : 'its label is in the out-bucket';
      this.options.logger[first ? 'info' : 'debug'](
        { requestId: result.requestId, stem: result.stem, ...outcome, messageId },
        first
          ? `a result arrived for a request that no one waits for any more; consumed (${fate})`
          : 'the same unclaimed result again (delivered twice); consumed',
      );
      return;
    }
    clearTimeout(waiter.timer);
    this.waiters.delete(result.requestId);
    waiter.resolve(result);
  }
}

/** A set of the last `capacity` ids added. */
class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** Adds `id`; false when it was already there. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}
