/**
 * A web process's reply queue (shared/wire/reply-queues.ts): the canonical response queue when it is the only web
 * process, or a queue of its own, created at start with tags that say whose it is, tagged with a heartbeat
 * while the process lives, and deleted at a clean stop. And the reaper every web process runs: it deletes the
 * reply queues of processes that died without a clean stop, and keeps what it saw, so that GET /status lists
 * the web processes of other instances too.
 */
import { hostname } from 'node:os';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueueTagsCommand,
  ListQueuesCommand,
  TagQueueCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isNotFound } from '../../shared/aws/clients.js';
import type { Config } from '../../shared/config/config.js';
import type { Logger } from '../../shared/logger.js';
import { PollLoop } from '../../shared/poll-loop.js';
import {
  queueNameOf,
  reapDecision,
  replyQueueName,
  replyQueueUrls,
  REPLY_QUEUE_ROLE,
  REPLY_QUEUE_TAGS,
} from '../../shared/wire/reply-queues.js';
import { queueAttributes, type QueueUrls } from '../../shared/aws/resources.js';

export interface ReplyQueue {
  readonly name: string;
  readonly url: string;
  /** True for a queue of this process's own; false for the canonical response queue. */
  readonly own: boolean;
  /** What request messages carry in `replyTo`: the own queue's name, or nothing for the canonical one. */
  readonly replyTo: string | undefined;
  /** Stops the heartbeat and deletes an own queue (the canonical one stays). */
  close(): Promise<void>;
}

/** What the heartbeat tags say of the process besides its liveness. */
export interface ReplyQueueOwner {
  readonly webId: string;
  /** Requests waiting for a result now (asked from the first heartbeat on). */
  readonly waiting: () => number;
  /** Where this process's own GET /metrics answers, if it has an address of its own. */
  readonly metricsUrl?: () => string | undefined;
}

/**
 * Whether this process gets a queue of its own: REPLY_QUEUE, or with `auto`, when it is one of several (on this
 * machine, or in a web group).
 */
export function wantsOwnQueue(config: Config): boolean {
  const mode = config.web.replyQueue.mode;
  return mode === 'own' || (mode === 'auto' && (config.web.processes > 1 || config.web.groupMember));
}

export async function openReplyQueue(
  config: Config,
  sqs: SQSClient,
  queues: QueueUrls,
  owner: ReplyQueueOwner,
  logger: Logger,
): Promise<ReplyQueue> {
  if (!wantsOwnQueue(config)) {
    const shared = { name: config.resources.responseQueue, url: queues.response, own: false, replyTo: undefined };
    return { ...shared, close: async () => undefined };
  }
  const name = replyQueueName(config.resources.prefix, owner.webId);
  const tags = (waiting: number) => ({
    [REPLY_QUEUE_TAGS.heartbeat]: String(Date.now()),
    [REPLY_QUEUE_TAGS.waiting]: String(waiting),
    ...(owner.metricsUrl?.() ? { [REPLY_QUEUE_TAGS.metrics]: owner.metricsUrl()! } : {}),
  });
  const { QueueUrl: url } = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      // Results nobody waits for are worth nothing after an hour, as on the canonical queue.
      Attributes: queueAttributes(config, '').response,
      tags: {
        [REPLY_QUEUE_TAGS.role]: REPLY_QUEUE_ROLE,
        [REPLY_QUEUE_TAGS.web]: owner.webId,
        [REPLY_QUEUE_TAGS.host]: hostname().slice(0, 200),
        [REPLY_QUEUE_TAGS.pid]: String(process.pid),
        // Nothing waits yet: the process takes requests once its queue exists.
        ...tags(0),
      },
    }),
  );
  if (!url) throw new Error(`creating the reply queue ${name} returned no URL`);
  logger.info({ replyQueue: name }, 'receiving results on a reply queue of this process');
  const heartbeat = new PollLoop({
    round: async () => {
      await sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: tags(owner.waiting()) }));
    },
    intervalMs: config.web.replyQueue.heartbeatSeconds * 1000,
    pauseFirst: true,
    backoffMs: () => config.web.replyQueue.heartbeatSeconds * 1000,
    onError: (err) => logger.warn({ err, replyQueue: name }, 'could not renew the reply queue’s heartbeat'),
    abortRoundOnStop: true,
  });
  heartbeat.start();
  return {
    name,
    url,
    own: true,
    replyTo: name,
    async close() {
      await heartbeat.stop();
      try {
        await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
        logger.info({ replyQueue: name }, 'reply queue deleted');
      } catch (err) {
        if (!isNotFound(err))
          logger.warn({ err, replyQueue: name }, 'could not delete the reply queue; the reaper of another will');
      }
    },
  };
}

/** A web process seen through its reply queue's tags (on this instance or another). */
export interface SeenWebProcess {
  readonly id: string;
  readonly replyQueue: string;
  readonly host?: string;
  readonly pid?: number;
  readonly waiting?: number;
  readonly metricsUrl?: string;
}

export interface ReaperOptions {
  readonly sqs: SQSClient;
  readonly resourcePrefix: string;
  /** This process's own queue: never deleted by its own reaper. */
  readonly ownQueue: string | undefined;
  readonly idleSeconds: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * Deletes the reply queues of web processes that stopped showing signs of life, every half of the idle time
 * (with some jitter, so that several processes do not all list the queues at once). Any web process may
 * delete a queue; two deleting the same one is harmless.
 */
export class ReplyQueueReaper {
  private readonly loop: PollLoop;
  private seenProcesses: SeenWebProcess[] = [];
  /** Queues deleted since start (for tests and the log). */
  reaped = 0;

  constructor(private readonly options: ReaperOptions) {
    const everyMs = (options.idleSeconds * 1000) / 2;
    this.loop = new PollLoop({
      round: () => this.sweep().then(() => undefined),
      intervalMs: everyMs * (0.8 + Math.random() * 0.4),
      backoffMs: () => everyMs,
      onError: (err) => options.logger.warn({ err }, 'the reply-queue reaper’s round failed; trying again'),
      abortRoundOnStop: true,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** The web processes with a reply queue of their own, as the last round saw them (reaped ones left out). */
  get processes(): readonly SeenWebProcess[] {
    return this.seenProcesses;
  }

  /** One round: list the reply queues, delete the silent ones; resolves with the names deleted. */
  async sweep(): Promise<string[]> {
    const { sqs, logger } = this.options;
    const now = (this.options.now ?? Date.now)();
    const urls = await replyQueueUrls(this.options.resourcePrefix, (input) => sqs.send(new ListQueuesCommand(input)));
    const deleted: string[] = [];
    const alive: SeenWebProcess[] = [];
    for (const url of urls) {
      const name = queueNameOf(url);
      const tags = await this.tagsOf(url);
      if (tags === undefined) continue;
      const createdAtMs = tags[REPLY_QUEUE_TAGS.heartbeat] ? undefined : await this.createdAt(url);
      const decision = reapDecision(
        { name, tags, createdAtMs },
        {
          resourcePrefix: this.options.resourcePrefix,
          ownQueue: this.options.ownQueue,
          nowMs: now,
          idleMs: this.options.idleSeconds * 1000,
        },
      );
      if (!decision.reap) {
        if (tags[REPLY_QUEUE_TAGS.role] === REPLY_QUEUE_ROLE) alive.push(seenProcess(name, tags));
        continue;
      }
      try {
        await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
        deleted.push(name);
        this.reaped++;
        logger.info(
          {
            replyQueue: name,
            web: tags[REPLY_QUEUE_TAGS.web],
            host: tags[REPLY_QUEUE_TAGS.host],
            reason: decision.reason,
          },
          'deleted the reply queue of a web process that is gone',
        );
      } catch (err) {
        if (!isNotFound(err)) logger.warn({ err, replyQueue: name }, 'could not delete a silent reply queue');
      }
    }
    this.seenProcesses = alive;
    return deleted;
  }

  /** A queue's tags; undefined when it was deleted meanwhile. */
  private async tagsOf(url: string): Promise<Record<string, string> | undefined> {
    try {
      return (await this.options.sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {};
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async createdAt(url: string): Promise<number | undefined> {
    try {
      const { Attributes } = await this.options.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['CreatedTimestamp'] }),
      );
      const seconds = Number(Attributes?.['CreatedTimestamp']);
      return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

function seenProcess(replyQueue: string, tags: Readonly<Record<string, string>>): SeenWebProcess {
  const number = (v: string | undefined) => (v === undefined || !Number.isFinite(Number(v)) ? undefined : Number(v));
  return {
    id: tags[REPLY_QUEUE_TAGS.web] ?? replyQueue,
    replyQueue,
    host: tags[REPLY_QUEUE_TAGS.host],
    pid: number(tags[REPLY_QUEUE_TAGS.pid]),
    waiting: number(tags[REPLY_QUEUE_TAGS.waiting]),
    metricsUrl: tags[REPLY_QUEUE_TAGS.metrics],
  };
}
