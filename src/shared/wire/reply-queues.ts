/**
 * Reply addressing between the tiers, as AWS's Temporary Queue Client does it: each web process receives its
 * results on a queue of its own, every request message names that queue (`replyTo`), and workers reply there.
 * With one web process the canonical `<prefix>-resp-queue` is that queue and requests name none, so the
 * course's layout is unchanged.
 *
 * A web process's queue carries tags: who owns it and a heartbeat, renewed every REPLY_QUEUE_HEARTBEAT_SECONDS.
 * A process killed outright cannot delete its queue; any web process's reaper deletes a reply queue whose
 * heartbeat is older than REPLY_QUEUE_IDLE_SECONDS (`reapDecision`). Everything here is pure.
 */
import { randomBytes } from 'node:crypto';

/** The tags of a web process's reply queue. SQS tag keys and values are free text (256 characters a value). */
export const REPLY_QUEUE_TAGS = {
  /** Marks a queue as a web process's reply queue: the reaper deletes nothing without it. */
  role: 'facefleet:role',
  web: 'facefleet:web',
  host: 'facefleet:host',
  pid: 'facefleet:pid',
  /** Epoch milliseconds of the owner's last sign of life. */
  heartbeat: 'facefleet:heartbeat',
  /** Requests the owner held at its last heartbeat. */
  waiting: 'facefleet:waiting',
  /** Where the owner's own GET /metrics answers, when it has an address of its own. */
  metrics: 'facefleet:metrics',
} as const;
export const REPLY_QUEUE_ROLE = 'reply-queue';

/** SQS queue names: 1 to 80 letters, digits, hyphens and underscores. */
const QUEUE_NAME_MAX = 80;

/** A web process's id: `w<n>-<8 random base-36 characters>`, new at every start (a replacement has its own). */
export function newWebId(index: number): string {
  const random = BigInt(`0x${randomBytes(6).toString('hex')}`)
    .toString(36)
    .padStart(8, '0')
    .slice(-8);
  return `w${index}-${random}`;
}

const WEB_ID = /^w\d{1,3}-[0-9a-z]{8}$/;

export function isWebId(id: string): boolean {
  return WEB_ID.test(id);
}

/** The prefix every web process's own reply queue starts with; the canonical response queue does not. */
export function replyQueuePrefix(resourcePrefix: string): string {
  return `${resourcePrefix}-resp-w`;
}

/** `<prefix>-resp-<web id>`: at most 40 + 6 + 13 characters, within SQS's 80. */
export function replyQueueName(resourcePrefix: string, webId: string): string {
  if (!isWebId(webId)) throw new RangeError(`"${webId}" is not a web process id`);
  const name = `${resourcePrefix}-resp-${webId}`;
  if (name.length > QUEUE_NAME_MAX) throw new RangeError(`queue name ${name} is over ${QUEUE_NAME_MAX} characters`);
  return name;
}

/** The web id in a reply queue's name; undefined when the name is not one of this prefix's reply queues. */
export function webIdOfQueue(resourcePrefix: string, queueName: string): string | undefined {
  const head = `${resourcePrefix}-resp-`;
  if (!queueName.startsWith(head)) return undefined;
  const id = queueName.slice(head.length);
  return isWebId(id) ? id : undefined;
}

/** A queue's name from its URL (`…/<account>/<name>` on SQS and on the emulator alike). */
export function queueNameOf(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

/**
 * Where a request's reply goes, as a worker reads it: the canonical response queue when the request names
 * none; the named queue when it is one of this deployment's reply queues; undefined (no reply can be sent)
 * for any other name, so that a forged message cannot make workers write to a queue that is not ours.
 */
export function replyQueueFor(
  names: { readonly prefix: string; readonly responseQueue: string },
  replyTo: string | undefined,
): string | undefined {
  if (replyTo === undefined || replyTo === names.responseQueue) return names.responseQueue;
  return webIdOfQueue(names.prefix, replyTo) === undefined ? undefined : replyTo;
}

/**
 * The same, as a worker's queue consumer takes it (`MessageHandler.replyQueue`): `undefined` for the canonical
 * queue (the consumer's default), the name of a web process's own queue, or `null` when no reply can be sent.
 */
export function replyQueueOfRequest(
  names: { readonly prefix: string; readonly responseQueue: string },
  replyTo: string | undefined,
): string | null | undefined {
  const queue = replyQueueFor(names, replyTo);
  if (queue === undefined) return null;
  return queue === names.responseQueue ? undefined : queue;
}

/** One page of ListQueues, as whoever calls SQS makes it (the reaper directly, the deploy commands in a session). */
export type ListQueuesPage = (input: {
  QueueNamePrefix: string;
  MaxResults: number;
  NextToken?: string;
}) => Promise<{ QueueUrls?: string[]; NextToken?: string }>;

/** The URLs of this deployment's reply queues, every page of them (the canonical queue is not one). */
export async function replyQueueUrls(resourcePrefix: string, listPage: ListQueuesPage): Promise<string[]> {
  const urls: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await listPage({ QueueNamePrefix: replyQueuePrefix(resourcePrefix), MaxResults: 1000, NextToken });
    urls.push(...(page.QueueUrls ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return urls.filter((url) => webIdOfQueue(resourcePrefix, queueNameOf(url)) !== undefined);
}

/** One reply queue as the reaper sees it. */
export interface SeenReplyQueue {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  /** The queue's CreatedTimestamp, epoch milliseconds, when known. */
  readonly createdAtMs?: number;
}

export type ReapDecision =
  | { readonly reap: false; readonly reason: string }
  | { readonly reap: true; readonly reason: string; readonly silentMs: number };

/**
 * Whether the reaper deletes a queue. Only this prefix's reply queues (by name and by their role tag) and
 * never the reaper's own. A queue is deleted when its owner's last heartbeat is older than `idleMs`; a queue
 * with no heartbeat yet (its owner died between creating and tagging it) counts from its creation.
 */
export function reapDecision(
  queue: SeenReplyQueue,
  options: {
    readonly resourcePrefix: string;
    readonly ownQueue?: string;
    readonly nowMs: number;
    readonly idleMs: number;
  },
): ReapDecision {
  if (queue.name === options.ownQueue) return { reap: false, reason: 'this process’s own queue' };
  if (webIdOfQueue(options.resourcePrefix, queue.name) === undefined)
    return { reap: false, reason: 'not a web process’s reply queue' };
  if (queue.tags[REPLY_QUEUE_TAGS.role] !== REPLY_QUEUE_ROLE) return { reap: false, reason: 'no reply-queue tag' };
  const heartbeat = Number(queue.tags[REPLY_QUEUE_TAGS.heartbeat]);
  const lastSign = Number.isFinite(heartbeat) && heartbeat > 0 ? heartbeat : queue.createdAtMs;
  if (lastSign === undefined) return { reap: false, reason: 'no heartbeat and no creation time' };
  const silentMs = options.nowMs - lastSign;
  return silentMs > options.idleMs
    ? { reap: true, reason: `no sign of life for ${Math.round(silentMs / 1000)} s`, silentMs }
    : { reap: false, reason: 'its owner is alive' };
}
