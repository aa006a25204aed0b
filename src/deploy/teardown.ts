/**
 * `npm run aws:teardown`: removes everything provisioning (and the fleet) created, in dependency order:
 * instances first (and waits until they are gone, since security groups and profiles are in use until then),
 * then the launch template, instance profiles, roles, security groups, the student records' table, queues, and the buckets after emptying
 * them. Whatever is already gone is reported as such, so it is safe to re-run after a partial teardown. Each
 * deletion lives beside the provisioning of its kind of resource.
 */
import { deleteAutoScalingGroup } from './auto-scaling-group.js';
import { deleteBucket } from './buckets.js';
import { deleteInstanceProfile, deleteRole } from './iam-roles.js';
import { terminateInstances } from './instances.js';
import { deleteLaunchTemplate } from './launch-template.js';
import { deploymentNames } from './names.js';
import { deleteQueue, deleteReplyQueues } from './queues.js';
import { deleteLoadBalancer } from './load-balancer.js';
import { deleteSecurityGroup } from './security-groups.js';
import { deleteStudentsTable } from './students-table.js';
import type { Deployment } from './session.js';

export interface TeardownOptions extends Deployment {
  readonly prefix: string;
  /** How long to wait for instances to terminate; default 10 minutes. */
  readonly terminateWaitSeconds?: number;
  /** Pause between retries of a security group still in use by a network interface; default 5 s. */
  readonly retryDelayMs?: number;
}

export async function teardown(options: TeardownOptions): Promise<void> {
  const names = deploymentNames(options.prefix);
  // The groups first: they would launch replacements for the instances terminated next. The web group's
  // instances go with it (ForceDelete), and its load balancer before the security groups it uses.
  if (options.clients.autoscaling) {
    const steps = { autoscaling: options.clients.autoscaling, session: options.session };
    await deleteAutoScalingGroup(steps, names.webGroup);
    await deleteAutoScalingGroup(steps, names.appTierGroup);
  }
  if (options.clients.elb)
    await deleteLoadBalancer({ elb: options.clients.elb, session: options.session }, names, {
      pollMs: options.retryDelayMs,
    });
  await terminateInstances(options, options.terminateWaitSeconds);
  for (const name of [names.launchTemplate, names.webLaunchTemplate]) await deleteLaunchTemplate(options, name);
  for (const name of [names.webRole, names.workerRole]) await deleteInstanceProfile(options, name);
  for (const name of [names.webRole, names.workerRole]) await deleteRole(options, name);
  // The web group's rules name the load balancer's group: it goes last.
  for (const name of [names.webSecurityGroup, names.workerSecurityGroup, names.loadBalancerSecurityGroup])
    await deleteSecurityGroup(options, name, options.retryDelayMs);
  await deleteStudentsTable({ dynamodb: options.clients.dynamodb, session: options.session }, names.studentsTable);
  // The bucket's notification goes with the bucket.
  for (const name of [names.requestQueue, names.responseQueue, names.videoQueue, names.deadLetterQueue])
    await deleteQueue(options, name);
  // Web processes' own reply queues: those of stopped processes are deleted already, and those of killed ones
  // by the reaper, unless every web process is gone, as now.
  await deleteReplyQueues(options, options.prefix);
  for (const name of [names.inBucket, names.outBucket, names.galleryBucket]) await deleteBucket(options, name);
}
