/**
 * A worker's map from reply queue names (a request's `replyTo`) to queue URLs: asked of SQS once a queue
 * (GetQueueUrl), then kept. A queue that is gone (its web process stopped, or died and was reaped) is said
 * once in the log; the replies for it are dropped, since nobody waits for them, and their labels are in the
 * out-bucket all the same.
 */
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { isNotFound } from '../shared/aws/clients.js';
import type { Logger } from '../shared/logger.js';
import type { ReplyQueueDirectory } from './queue-consumer.js';

/** Names kept at most: a web process's queue lives as long as the process, so a few hundred is a long run. */
const MAX_NAMES = 1000;

export class ReplyQueueUrls implements ReplyQueueDirectory {
  private readonly urls = new Map<string, Promise<string | undefined>>();
  private readonly saidGone = new Set<string>();
  /** Replies dropped because their queue was gone (for the worker's metrics and tests). */
  dropped = 0;

  constructor(
    private readonly sqs: SQSClient,
    private readonly logger: Logger,
  ) {}

  urlOf(name: string): Promise<string | undefined> {
    let url = this.urls.get(name);
    if (!url) {
      url = this.sqs.send(new GetQueueUrlCommand({ QueueName: name })).then(
        (r) => r.QueueUrl,
        (err: unknown) => {
          if (isNotFound(err)) return undefined;
          this.urls.delete(name);
          throw err;
        },
      );
      this.urls.set(name, url);
      if (this.urls.size > MAX_NAMES) this.urls.delete(this.urls.keys().next().value!);
    }
    return url;
  }

  gone(name: string, replies: number): void {
    this.urls.delete(name);
    this.dropped += replies;
    const first = !this.saidGone.has(name);
    if (first) {
      this.saidGone.add(name);
      if (this.saidGone.size > MAX_NAMES) this.saidGone.delete(this.saidGone.values().next().value!);
    }
    this.logger[first ? 'warn' : 'debug'](
      { replyQueue: name, replies },
      first
        ? 'the reply queue is gone (its web process stopped or died): the replies are dropped, their labels are in the out-bucket'
        : 'the reply queue is still gone; replies dropped',
    );
  }
}
