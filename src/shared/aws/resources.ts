/**
 * Creates the buckets and queues the service needs, idempotently: creating what exists changes nothing but a
 * queue's attributes, which take this run's settings.
 * The request queue has the course's MaximumMessageSize of 1024 bytes and a dead-letter queue.
 */
import {
  CreateBucketCommand,
  HeadBucketCommand,
  type BucketLocationConstraint,
  type CreateBucketCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isNotFound } from './clients.js';
import type { Config } from '../config/config.js';
import { MAX_REQUEST_MESSAGE_BYTES, UPLOADS_PREFIX } from '../wire/messages.js';

export interface QueueUrls {
  readonly request: string;
  readonly response: string;
  readonly deadLetter: string;
  /** Videos: the web tier's `video` requests, and S3's events of videos put under `videos/` (on AWS). */
  readonly video: string;
}

/** The S3 lifecycle rule provisioning owns on each bucket that has one. */
export const RETENTION_RULE_ID = 'facefleet-retention';

/**
 * What expires after RETENTION_DAYS, for provisioning (S3 lifecycle rules) and `npm start` (a sweeper) alike:
 * recognition uploads in the in-bucket and every label in the out-bucket. Enrollment photos (`enrollment/`)
 * and the gallery bucket are never expired: they belong to enrolled faces.
 */
export function retentionRules(names: { inBucket: string; outBucket: string }) {
  return [
    { bucket: names.inBucket, prefix: UPLOADS_PREFIX },
    { bucket: names.outBucket, prefix: '' },
  ] as const;
}

/** SQS keeps messages at most 14 days; results nobody waits for any more are worthless after a day. */
const RETENTION_SECONDS = { request: 86_400, response: 3_600, deadLetter: 1_209_600 };

/**
 * Each queue's attributes, for `npm start` and for provisioning on AWS alike. The request queue has the
 * course's MaximumMessageSize of 1024 bytes, the configured visibility timeout and a redrive policy to the
 * dead-letter queue, whose ARN is needed first.
 */
export function queueAttributes(config: Config, deadLetterArn: string) {
  return {
    deadLetter: { MessageRetentionPeriod: String(RETENTION_SECONDS.deadLetter) },
    request: {
      MaximumMessageSize: String(MAX_REQUEST_MESSAGE_BYTES),
      VisibilityTimeout: String(config.queue.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(RETENTION_SECONDS.request),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: deadLetterArn,
        maxReceiveCount: config.queue.maxReceiveCount,
      }),
    },
    response: { MessageRetentionPeriod: String(RETENTION_SECONDS.response) },
    // S3's event messages are some 700 bytes plus the key (itself up to 1024): this queue keeps SQS's size limit.
    video: {
      VisibilityTimeout: String(config.queue.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(RETENTION_SECONDS.request),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: deadLetterArn,
        maxReceiveCount: config.queue.maxReceiveCount,
      }),
    },
  };
}

export async function ensureResources(config: Config, s3: S3Client, sqs: SQSClient): Promise<QueueUrls> {
  const names = config.resources;
  for (const bucket of [names.inBucket, names.outBucket, names.galleryBucket]) {
    await ensureBucket(s3, bucket, config.aws.region);
  }
  return ensureQueueSet(config, {
    ensure: (name, attributes) => createQueue(sqs, name, attributes),
    arnOf: async (name, url) => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      if (!Attributes?.['QueueArn']) throw new Error(`queue ${name} has no QueueArn`);
      return Attributes['QueueArn'];
    },
  });
}

/**
 * The four queues, in the order they need: the dead-letter queue first, since the request queue's redrive
 * policy names its ARN. How a queue is made to exist with its attributes is the caller's: `npm start` creates
 * or updates it at once, provisioning reads first and reports (or only prints, in a dry run).
 */
export async function ensureQueueSet(
  config: Config,
  steps: {
    ensure(name: string, attributes: Record<string, string>): Promise<string>;
    arnOf(name: string, url: string): Promise<string>;
  },
): Promise<QueueUrls> {
  const names = config.resources;
  const deadLetter = await steps.ensure(names.deadLetterQueue, queueAttributes(config, '').deadLetter);
  const attributes = queueAttributes(config, await steps.arnOf(names.deadLetterQueue, deadLetter));
  const request = await steps.ensure(names.requestQueue, attributes.request);
  const response = await steps.ensure(names.responseQueue, attributes.response);
  const video = await steps.ensure(names.videoQueue, attributes.video);
  return { request, response, deadLetter, video };
}

/**
 * The attributes of `desired` that a queue's `current` ones do not match. A redrive policy comes back as JSON
 * with its own spacing and number types, so it is compared parsed.
 */
export function differingAttributes(
  current: Readonly<Record<string, string | undefined>>,
  desired: Readonly<Record<string, string>>,
): Record<string, string> {
  return Object.fromEntries(Object.entries(desired).filter(([k, v]) => !sameAttribute(k, current[k], v)));
}

function sameAttribute(name: string, actual: string | undefined, desired: string): boolean {
  if (actual === undefined) return false;
  if (name !== 'RedrivePolicy') return actual === desired;
  try {
    const a = JSON.parse(actual) as Record<string, unknown>;
    const d = JSON.parse(desired) as Record<string, unknown>;
    return (
      a['deadLetterTargetArn'] === d['deadLetterTargetArn'] && Number(a['maxReceiveCount']) === d['maxReceiveCount']
    );
  } catch {
    return false;
  }
}

/** CreateBucket's input: us-east-1 is the one region that rejects an explicit LocationConstraint. */
export function bucketCreation(Bucket: string, region: string): CreateBucketCommandInput {
  return {
    Bucket,
    ...(region === 'us-east-1'
      ? {}
      : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
  };
}

/** Messages in a queue: waiting to be received (visible), and received but not yet deleted (in flight). */
export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
}

export const QUEUE_DEPTH_ATTRIBUTES: QueueAttributeName[] = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
];

export function depthOf(attributes: Record<string, string> = {}): QueueDepth {
  return {
    visible: Number(attributes['ApproximateNumberOfMessages'] ?? 0),
    inFlight: Number(attributes['ApproximateNumberOfMessagesNotVisible'] ?? 0),
  };
}

export async function queueDepth(sqs: SQSClient, QueueUrl: string): Promise<QueueDepth> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: QUEUE_DEPTH_ATTRIBUTES }),
  );
  return depthOf(Attributes);
}

/** Looks up the queue URLs of resources created elsewhere (by `npm start` or the provisioning script). */
export async function resolveQueueUrls(config: Config, sqs: SQSClient): Promise<QueueUrls> {
  const url = async (QueueName: string) => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName }));
    if (!QueueUrl) throw new Error(`queue ${QueueName} has no URL`);
    return QueueUrl;
  };
  const names = config.resources;
  const [request, response, deadLetter, video] = await Promise.all([
    url(names.requestQueue),
    url(names.responseQueue),
    url(names.deadLetterQueue),
    url(names.videoQueue),
  ]);
  return { request, response, deadLetter, video };
}

async function ensureBucket(s3: S3Client, Bucket: string, region: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket }));
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  await s3.send(new CreateBucketCommand(bucketCreation(Bucket, region)));
}

/**
 * Creates the queue, or, when it exists with other attributes (kept from a run with other settings), gives it
 * this run's: the configuration is what holds.
 */
async function createQueue(sqs: SQSClient, QueueName: string, Attributes: Record<string, string>): Promise<string> {
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName, Attributes }));
    if (!QueueUrl) throw new Error(`CreateQueue ${QueueName} returned no URL`);
    return QueueUrl;
  } catch (err) {
    // QueueNameExists on SQS; the emulator answers with the older, qualified code.
    if (!/(^|\.)Queue(NameExists|AlreadyExists)$/.test((err as Error).name)) throw err;
  }
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName }));
  if (!QueueUrl) throw new Error(`queue ${QueueName} has no URL`);
  const { Attributes: current = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
  );
  const differing = differingAttributes(current, Attributes);
  if (Object.keys(differing).length > 0) {
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: differing }));
  }
  return QueueUrl;
}
