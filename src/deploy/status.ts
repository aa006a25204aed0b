/**
 * `npm run aws:status`: the deployment at a glance: each queue's depth (visible and in flight), every instance
 * by state with its name and address, the web processes' reply queues, the web group's load balancer, and how
 * many objects each bucket holds. Reads only.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { queueNameOf, replyQueueUrls } from '../shared/wire/reply-queues.js';
import { depthOf, QUEUE_DEPTH_ATTRIBUTES } from '../shared/aws/resources.js';
import { deploymentNames } from './names.js';
import { orMissing, type AwsClients, type Session } from './session.js';
import { deploymentInstances } from './instances.js';

/** Buckets are counted up to this many objects; more is shown as "10000+". */
const MAX_COUNTED_OBJECTS = 10_000;

export interface DeploymentStatus {
  readonly queues: { name: string; visible?: number; inFlight?: number }[];
  readonly instances: { id: string; name: string; state: string; address?: string }[];
  readonly buckets: { name: string; objects?: number; more: boolean }[];
  /** The web processes' own reply queues (reply-queues.ts): one per live web process, and those not reaped yet. */
  readonly replyQueues: string[];
  /** The web group's load balancer, when there is one (`--web-group`). */
  readonly loadBalancer?: { name: string; dnsName: string; state: string };
}

export async function deploymentStatus(options: {
  prefix: string;
  clients: AwsClients;
  session: Session;
}): Promise<DeploymentStatus> {
  const names = deploymentNames(options.prefix);
  const { sqs, s3 } = options.clients;
  const queues = [];
  for (const name of [names.requestQueue, names.videoQueue, names.responseQueue, names.deadLetterQueue]) {
    const found = await options.session
      .read(`queue ${name}`, sqs, new GetQueueUrlCommand({ QueueName: name }))
      .catch(orMissing);
    if (!found?.QueueUrl) {
      queues.push({ name });
      continue;
    }
    const { Attributes } = await options.session.read(
      `queue ${name}`,
      sqs,
      new GetQueueAttributesCommand({
        QueueUrl: found.QueueUrl,
        AttributeNames: QUEUE_DEPTH_ATTRIBUTES,
      }),
    );
    queues.push({ name, ...depthOf(Attributes) });
  }
  const instances = (await deploymentInstances({ ...options })).map((i) => ({
    id: i.InstanceId ?? '?',
    name: i.Tags?.find((t) => t.Key === 'Name')?.Value ?? '(no name)',
    state: i.State?.Name ?? 'unknown',
    address: i.PublicIpAddress,
  }));
  const buckets = [];
  for (const name of [names.inBucket, names.outBucket, names.galleryBucket]) {
    let objects = 0;
    let token: string | undefined;
    let exists = true;
    do {
      const page = await options.session
        .read(`bucket ${name}`, s3, new ListObjectsV2Command({ Bucket: name, ContinuationToken: token }))
        .catch(orMissing);
      if (!page) {
        exists = false;
        break;
      }
      objects += page.KeyCount ?? page.Contents?.length ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && objects < MAX_COUNTED_OBJECTS);
    buckets.push(exists ? { name, objects, more: token !== undefined } : { name, more: false });
  }
  const replyQueues = (
    await replyQueueUrls(options.prefix, (input) =>
      options.session.read('reply queues', sqs, new ListQueuesCommand(input)),
    )
  ).map(queueNameOf);
  let loadBalancer: DeploymentStatus['loadBalancer'];
  if (options.clients.elb) {
    const found = await options.session
      .read(
        `load balancer ${names.loadBalancer}`,
        options.clients.elb,
        new DescribeLoadBalancersCommand({ Names: [names.loadBalancer] }),
      )
      .catch(orMissing);
    const lb = found?.LoadBalancers?.[0];
    if (lb) loadBalancer = { name: names.loadBalancer, dnsName: lb.DNSName ?? '?', state: lb.State?.Code ?? '?' };
  }
  return { queues, instances, buckets, replyQueues, ...(loadBalancer ? { loadBalancer } : {}) };
}

export function formatStatus(status: DeploymentStatus): string {
  const lines = ['queues (visible / in flight):'];
  for (const q of status.queues) {
    lines.push(`  ${q.name.padEnd(32)} ${q.visible === undefined ? 'absent' : `${q.visible} / ${q.inFlight}`}`);
  }
  const byState = new Map<string, number>();
  for (const i of status.instances) byState.set(i.state, (byState.get(i.state) ?? 0) + 1);
  lines.push(`instances: ${status.instances.length ? [...byState].map(([s, n]) => `${n} ${s}`).join(', ') : 'none'}`);
  for (const i of [...status.instances].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    lines.push(`  ${i.name.padEnd(24)} ${i.id.padEnd(20)} ${i.state.padEnd(14)} ${i.address ?? ''}`.trimEnd());
  }
  lines.push(`reply queues of web processes: ${status.replyQueues.length ? status.replyQueues.join(', ') : 'none'}`);
  if (status.loadBalancer)
    lines.push(
      `load balancer: ${status.loadBalancer.name}, ${status.loadBalancer.state}, http://${status.loadBalancer.dnsName}:8000/`,
    );
  lines.push('buckets (objects):');
  for (const b of status.buckets) {
    lines.push(`  ${b.name.padEnd(32)} ${b.objects === undefined ? 'absent' : `${b.objects}${b.more ? '+' : ''}`}`);
  }
  return lines.join('\n');
}
