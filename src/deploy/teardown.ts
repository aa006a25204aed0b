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
import { deleteQueue } from './queues.js';
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

export async function teardown(o: TeardownOptions): Promise<void> {
  const names = deploymentNames(o.prefix);
  // The group first: it would launch replacements for the instances terminated next.
  if (o.clients.autoscaling)
    await deleteAutoScalingGroup({ autoscaling: o.clients.autoscaling, session: o.session }, names.appTierGroup);
  await terminateInstances(o, o.terminateWaitSeconds);
  await deleteLaunchTemplate(o, names);
  for (const name of [names.webRole, names.workerRole]) await deleteInstanceProfile(o, name);
  for (const name of [names.webRole, names.workerRole]) await deleteRole(o, name);
  for (const name of [names.webSecurityGroup, names.workerSecurityGroup])
    await deleteSecurityGroup(o, name, o.retryDelayMs);
  await deleteStudentsTable({ dynamodb: o.clients.dynamodb, session: o.session }, names.studentsTable);
  // The bucket's notification goes with the bucket.
  for (const name of [names.requestQueue, names.responseQueue, names.videoQueue, names.deadLetterQueue])
    await deleteQueue(o, name);
  for (const name of [names.inBucket, names.outBucket, names.galleryBucket]) await deleteBucket(o, name);
}
