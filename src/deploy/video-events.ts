/**
 * Videos put straight into the in-bucket under `videos/` are processed too: the bucket notifies the video queue
 * of each object created there, and the queue lets S3 (for this bucket, in this account only) send to it. S3's
 * event messages are some 700 bytes plus the object's key (up to 1024 bytes itself), more than the request
 * queue's 1024 bytes for all but short names: they get a queue of their
 * own, which the workers also poll. Both are compared with what exists and changed only where they differ; a
 * notification of the bucket that is not ours (another id) is kept as it is.
 */
import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
  type QueueConfiguration,
} from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isS3TestEvent } from '../app-tier/tasks/video/s3-events.js';
import { isDeepStrictEqual } from 'node:util';
import { VIDEOS_PREFIX } from '../shared/wire/messages.js';
import type { DeploymentNames } from './names.js';
import type { ProvisionOptions } from './provision.js';
import { orMissing } from './session.js';

/** The id of our notification among the bucket's. */
export const VIDEO_NOTIFICATION_ID = 'facefleet-videos';

/** Who may send to the video queue: S3, for this bucket of this account. */
export function videoQueuePolicy(queueArn: string, inBucket: string, account: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'S3VideoEvents',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: {
          ArnEquals: { 'aws:SourceArn': `arn:aws:s3:::${inBucket}` },
          StringEquals: { 'aws:SourceAccount': account },
        },
      },
    ],
  };
}

/** Our notification: every object created under `videos/`, to the video queue. */
export function videoNotification(queueArn: string): QueueConfiguration {
  return {
    Id: VIDEO_NOTIFICATION_ID,
    QueueArn: queueArn,
    Events: ['s3:ObjectCreated:*'],
    Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: VIDEOS_PREFIX }] } },
  };
}

/** The bucket's notifications with ours in place of any earlier one; undefined when it is there already. */
export function withVideoNotification(
  current: NotificationConfiguration,
  ours: QueueConfiguration,
): NotificationConfiguration | undefined {
  const queues = current.QueueConfigurations ?? [];
  const existing = queues.find((q) => q.Id === VIDEO_NOTIFICATION_ID);
  if (existing && sameNotification(existing, ours)) return undefined;
  return {
    ...(current.TopicConfigurations?.length ? { TopicConfigurations: current.TopicConfigurations } : {}),
    ...(current.LambdaFunctionConfigurations?.length
      ? { LambdaFunctionConfigurations: current.LambdaFunctionConfigurations }
      : {}),
    ...(current.EventBridgeConfiguration ? { EventBridgeConfiguration: current.EventBridgeConfiguration } : {}),
    QueueConfigurations: [...queues.filter((q) => q.Id !== VIDEO_NOTIFICATION_ID), ours],
  };
}

function sameNotification(a: QueueConfiguration, b: QueueConfiguration): boolean {
  const rules = (q: QueueConfiguration) =>
    (q.Filter?.Key?.FilterRules ?? []).map((r) => `${r.Name?.toLowerCase()}=${r.Value}`).sort();
  return (
    a.QueueArn === b.QueueArn &&
    isDeepStrictEqual([...(a.Events ?? [])].sort(), [...(b.Events ?? [])].sort()) &&
    isDeepStrictEqual(rules(a), rules(b))
  );
}

export async function ensureVideoEvents(
  { clients: { s3, sqs }, session }: ProvisionOptions,
  names: DeploymentNames,
  account: string,
  queueUrl: string,
  /** What the queue's ARN would be (a dry run's queue may not exist yet); its own is read where it exists. */
  expectedArn: string,
): Promise<void> {
  // The queue's policy first: S3 checks that it may send before it takes the notification.
  const queueStep = `queue ${names.videoQueue} policy`;
  const reading = session.read(
    queueStep,
    sqs,
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['Policy', 'QueueArn'] }),
  );
  // A dry run that would create the queue has only a placeholder URL to read.
  const { Attributes } = session.dryRun ? await reading.catch(() => ({ Attributes: undefined })) : await reading;
  const queueArn = Attributes?.['QueueArn'] ?? expectedArn;
  const desired = videoQueuePolicy(queueArn, names.inBucket, account);
  const current = Attributes?.['Policy'];
  if (current && isDeepStrictEqual(JSON.parse(current), desired)) session.report(queueStep, 'unchanged');
  else {
    await session.change(
      queueStep,
      sqs,
      new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: JSON.stringify(desired) } }),
    );
    session.report(queueStep, current ? 'updated' : 'created', `S3 may send the events of ${names.inBucket}`);
  }

  const step = `bucket ${names.inBucket} notification`;
  const existing = await session
    .read(step, s3, new GetBucketNotificationConfigurationCommand({ Bucket: names.inBucket }))
    .catch(orMissing);
  const next = withVideoNotification(existing ?? {}, videoNotification(queueArn));
  if (!next) {
    session.report(step, 'unchanged');
    return;
  }
  // A queue policy takes up to 60 s to reach every SQS host, and S3 validates the destination when it takes the
  // notification: "Unable to validate the following destination configurations" right after the policy was set
  // (SQS SetQueueAttributes API reference; S3 User Guide, "Troubleshooting event notifications"). Tried again for
  // up to 90 s, on that error only.
  for (let attempt = 1; ; attempt++) {
    try {
      await session.change(
        step,
        s3,
        new PutBucketNotificationConfigurationCommand({ Bucket: names.inBucket, NotificationConfiguration: next }),
      );
      break;
    } catch (err) {
      if (!destinationNotValidated(err) || attempt >= NOTIFICATION_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, NOTIFICATION_RETRY_MS));
    }
  }
  if (!session.dryRun) await removeTestEvents(sqs, queueUrl);
  session.report(
    step,
    existing?.QueueConfigurations?.some((q) => q.Id === VIDEO_NOTIFICATION_ID) ? 'updated' : 'created',
    `objects created under ${VIDEOS_PREFIX} → ${names.videoQueue}`,
  );
}

const NOTIFICATION_ATTEMPTS = 10;
const NOTIFICATION_RETRY_MS = 10_000;

/** S3's answer while the queue's new policy has not reached it yet. */
function destinationNotValidated(err: unknown): boolean {
  const cause = ((err as { cause?: unknown }).cause ?? err) as Error;
  return /Unable to validate the following destination configurations/i.test(cause?.message ?? '');
}

/**
 * S3 sends an `s3:TestEvent` to the queue when it takes a notification. Left there, it is a message the
 * autoscaler counts: it launched an instance only for a worker to delete the event. Taken off here; any other
 * message seen is made visible again at once.
 */
export async function removeTestEvents(sqs: SQSClient, queueUrl: string): Promise<number> {
  let removed = 0;
  for (let round = 0; round < 3; round++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 30,
      }),
    );
    if (Messages.length === 0) break;
    for (const m of Messages) {
      if (isS3TestEvent(m.Body)) {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
        removed++;
      } else {
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      }
    }
  }
  return removed;
}
