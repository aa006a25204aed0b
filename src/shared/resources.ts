/**
 * Creates the buckets and queues the service needs, idempotently: creating what exists changes nothing but a
 * queue's attributes, which take this run's settings.
 * The request queue has the course's MaximumMessageSize of 1024 bytes and a dead-letter queue.
 */
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isNotFound } from './aws.js';
import type { Config } from './config.js';
import { MAX_REQUEST_MESSAGE_BYTES, UPLOADS_PREFIX } from './messages.js';

export interface QueueUrls {
  readonly request: string;
  readonly response: string;
  readonly deadLetter: string;
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
  };
}

export async function ensureResources(config: Config, s3: S3Client, sqs: SQSClient): Promise<QueueUrls> {
  const names = config.resources;
  for (const bucket of [names.inBucket, names.outBucket, names.galleryBucket]) {
    await ensureBucket(s3, bucket, config.aws.region);
  }
  const deadLetter = await createQueue(sqs, names.deadLetterQueue, queueAttributes(config, '').deadLetter);
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetter, AttributeNames: ['QueueArn'] })))
    .Attributes?.['QueueArn'];
  if (!dlqArn) throw new Error(`queue ${names.deadLetterQueue} has no QueueArn`);
  const attributes = queueAttributes(config, dlqArn);
  const request = await createQueue(sqs, names.requestQueue, attributes.request);
  const response = await createQueue(sqs, names.responseQueue, attributes.response);
  return { request, response, deadLetter };
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
  const [request, response, deadLetter] = await Promise.all([
    url(names.requestQueue),
    url(names.responseQueue),
    url(names.deadLetterQueue),
  ]);
  return { request, response, deadLetter };
}

async function ensureBucket(s3: S3Client, Bucket: string, region: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket }));
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  await s3.send(
    new CreateBucketCommand({
      Bucket,
      // us-east-1 is the one region that rejects an explicit LocationConstraint.
      ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
    }),
  );
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
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes }));
  return QueueUrl;
}
