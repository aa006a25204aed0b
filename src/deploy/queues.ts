/**
 * The deployment's queues, in the order `ensureQueueSet` (shared with `npm start`) gives them: each created
 * with the attributes `queueAttributes` declares, or updated where its attributes differ.
 */
import { queueNameOf, replyQueuePrefix, replyQueueUrls } from '../shared/wire/reply-queues.js';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { differingAttributes, ensureQueueSet, type QueueUrls } from '../shared/aws/resources.js';
import { PLACEHOLDER_ACCOUNT } from './names.js';
import type { ProvisionOptions } from './provision.js';
import { alreadyGone, DeployError, orMissing, type Deployment } from './session.js';

export async function ensureQueues(options: ProvisionOptions): Promise<QueueUrls> {
  const created = new Set<string>();
  return ensureQueueSet(options.config, {
    ensure: async (name, attributes) => {
      const { url, isNew } = await ensureQueue(options, name, attributes);
      if (isNew) created.add(name);
      return url;
    },
    arnOf: async (name, url) => {
      // A dry run that would create the queue has no ARN to read: print where it would be.
      if (options.session.dryRun && created.has(name))
        return `arn:aws:sqs:${options.config.aws.region}:${PLACEHOLDER_ACCOUNT}:${name}`;
      const { Attributes } = await options.session.read(
        `queue ${name}`,
        options.clients.sqs,
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      const arn = Attributes?.['QueueArn'];
      if (!arn) throw new DeployError(`queue ${name}: it has no QueueArn`, 'queues');
      return arn;
    },
  });
}

async function ensureQueue(
  { clients: { sqs }, session }: ProvisionOptions,
  QueueName: string,
  desired: Record<string, string>,
): Promise<{ url: string; isNew: boolean }> {
  const step = `queue ${QueueName}`;
  const found = await session.read(step, sqs, new GetQueueUrlCommand({ QueueName })).catch(orMissing);
  if (!found?.QueueUrl) {
    const create = () =>
      session.change(step, sqs, new CreateQueueCommand({ QueueName, Attributes: desired }), {
        QueueUrl: `https://sqs.example/${PLACEHOLDER_ACCOUNT}/${QueueName}`,
      });
    // SQS refuses a queue whose name was deleted less than 60 s ago (QueueDeletedRecently, CreateQueue API
    // reference): provisioning right after a teardown waits that out instead of failing.
    const created = await create().catch(async (err: unknown) => {
      const cause = ((err as { cause?: unknown }).cause ?? err) as Error;
      if (!/QueueDeletedRecently/.test(`${cause.name} ${cause.message}`)) throw err;
      session.note(step, 'deleted less than 60 s ago: waiting 65 s, as SQS asks');
      await new Promise((resolve) => setTimeout(resolve, 65_000));
      return create();
    });
    if (!created.QueueUrl) throw new DeployError(`${step}: SQS returned no queue URL`, step);
    session.report(step, 'created', describeAttributes(desired));
    return { url: created.QueueUrl, isNew: true };
  }
  const { Attributes = {} } = await session.read(
    step,
    sqs,
    new GetQueueAttributesCommand({ QueueUrl: found.QueueUrl, AttributeNames: ['All'] }),
  );
  const differing = differingAttributes(Attributes, desired);
  if (Object.keys(differing).length > 0) {
    await session.change(step, sqs, new SetQueueAttributesCommand({ QueueUrl: found.QueueUrl, Attributes: differing }));
    session.report(step, 'updated', describeAttributes(differing));
  } else {
    session.report(step, 'unchanged');
  }
  return { url: found.QueueUrl, isNew: false };
}

/** Attributes as a report shows them; a redrive policy by its receive count. */
export function describeAttributes(attributes: Record<string, string>): string {
  return Object.entries(attributes)
    .map(([k, v]) => {
      if (k !== 'RedrivePolicy') return `${k} ${v}`;
      const { maxReceiveCount } = JSON.parse(v) as { maxReceiveCount?: number };
      return `${k} maxReceiveCount ${maxReceiveCount}`;
    })
    .join(', ');
}

export async function deleteQueue({ clients: { sqs }, session }: Deployment, QueueName: string) {
  const step = `queue ${QueueName}`;
  const found = await session.read(step, sqs, new GetQueueUrlCommand({ QueueName })).catch(orMissing);
  if (!found?.QueueUrl) {
    session.report(step, 'already gone');
    return;
  }
  await session.change(step, sqs, new DeleteQueueCommand({ QueueUrl: found.QueueUrl }));
  session.report(step, 'deleted');
}

/** Deletes every web process's reply queue of the deployment (`<prefix>-resp-w…`), by the URLs listed. */
export async function deleteReplyQueues({ clients: { sqs }, session }: Deployment, prefix: string): Promise<void> {
  const step = `reply queues ${replyQueuePrefix(prefix)}…`;
  const urls = await replyQueueUrls(prefix, (input) => session.read(step, sqs, new ListQueuesCommand(input)));
  if (urls.length === 0) {
    session.report(step, 'already gone');
    return;
  }
  for (const QueueUrl of urls) {
    await alreadyGone(() => session.change(step, sqs, new DeleteQueueCommand({ QueueUrl })));
  }
  session.report(step, 'deleted', urls.map(queueNameOf).join(', '));
}
