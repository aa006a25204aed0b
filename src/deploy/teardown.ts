/**
 * `npm run aws:teardown`: removes everything provisioning (and the fleet) created, in dependency order:
 * instances first (and waits until they are gone, since security groups and profiles are in use until then),
 * then the launch template, instance profiles, roles, security groups, queues, and the buckets after emptying
 * them. Whatever is already gone is reported as such, so it is safe to re-run after a partial teardown.
 */
import {
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetInstanceProfileCommand,
  RemoveRoleFromInstanceProfileCommand,
} from '@aws-sdk/client-iam';
import {
  DeleteLaunchTemplateCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  TerminateInstancesCommand,
  waitUntilInstanceTerminated,
} from '@aws-sdk/client-ec2';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { DeleteQueueCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { deploymentInstances } from './instances.js';
import { deploymentNames, type DeploymentNames } from './names.js';
import { alreadyGone, DeployError, orMissing, type AwsClients, type Session } from './session.js';

export interface TeardownOptions {
  readonly prefix: string;
  readonly clients: AwsClients;
  readonly session: Session;
  /** How long to wait for instances to terminate; default 10 minutes. */
  readonly terminateWaitSeconds?: number;
  /** Pause between retries of a security group still in use by a network interface; default 5 s. */
  readonly retryDelayMs?: number;
}

export async function teardown(o: TeardownOptions): Promise<void> {
  const names = deploymentNames(o.prefix);
  await terminateInstances(o);
  await deleteLaunchTemplate(o, names);
  for (const name of [names.webRole, names.workerRole]) await deleteInstanceProfile(o, name);
  for (const name of [names.webRole, names.workerRole]) await deleteRole(o, name);
  for (const name of [names.webSecurityGroup, names.workerSecurityGroup]) await deleteSecurityGroup(o, name);
  for (const name of [names.requestQueue, names.responseQueue, names.deadLetterQueue]) await deleteQueue(o, name);
  for (const name of [names.inBucket, names.outBucket, names.galleryBucket]) await deleteBucket(o, name);
}

async function terminateInstances(o: TeardownOptions): Promise<void> {
  const instances = await deploymentInstances(o);
  const ids = instances.map((i) => i.InstanceId!).filter(Boolean);
  if (ids.length === 0) {
    o.session.report('instances', 'already gone');
    return;
  }
  await o.session.change('instances', o.clients.ec2, new TerminateInstancesCommand({ InstanceIds: ids }), undefined);
  if (!o.session.dryRun) {
    await waitUntilInstanceTerminated(
      { client: o.clients.ec2, maxWaitTime: o.terminateWaitSeconds ?? 600, minDelay: 5, maxDelay: 15 },
      { InstanceIds: ids },
    ).catch((err: unknown) => {
      throw new DeployError(
        `instances: ${ids.join(', ')} did not terminate in time (${(err as Error).message}); run teardown again.`,
        'instances',
        { cause: err },
      );
    });
  }
  o.session.report('instances', 'deleted', ids.join(', '));
}

async function deleteLaunchTemplate({ clients: { ec2 }, session }: TeardownOptions, names: DeploymentNames) {
  const step = `launch template ${names.launchTemplate}`;
  const gone = await alreadyGone(() =>
    session.change(step, ec2, new DeleteLaunchTemplateCommand({ LaunchTemplateName: names.launchTemplate }), undefined),
  );
  session.report(step, gone ? 'already gone' : 'deleted');
}

async function deleteInstanceProfile({ clients: { iam }, session }: TeardownOptions, name: string) {
  const step = `instance profile ${name}`;
  const found = await session
    .read(step, iam, new GetInstanceProfileCommand({ InstanceProfileName: name }))
    .catch(orMissing);
  if (!found?.InstanceProfile) {
    session.report(step, 'already gone');
    return;
  }
  for (const role of found.InstanceProfile.Roles ?? []) {
    await session.change(
      step,
      iam,
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName: role.RoleName }),
      undefined,
    );
  }
  await session.change(step, iam, new DeleteInstanceProfileCommand({ InstanceProfileName: name }), undefined);
  session.report(step, 'deleted');
}

async function deleteRole({ clients: { iam }, session }: TeardownOptions, RoleName: string) {
  const step = `IAM role ${RoleName}`;
  // A role with an inline policy cannot be deleted: the policy goes first.
  await alreadyGone(() =>
    session.change(step, iam, new DeleteRolePolicyCommand({ RoleName, PolicyName: RoleName }), undefined),
  );
  const gone = await alreadyGone(() => session.change(step, iam, new DeleteRoleCommand({ RoleName }), undefined));
  session.report(step, gone ? 'already gone' : 'deleted');
}

async function deleteSecurityGroup(o: TeardownOptions, GroupName: string) {
  const { ec2 } = o.clients;
  const step = `security group ${GroupName}`;
  const { SecurityGroups = [] } = await o.session.read(
    step,
    ec2,
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [GroupName] }] }),
  );
  if (SecurityGroups.length === 0) {
    o.session.report(step, 'already gone');
    return;
  }
  for (const group of SecurityGroups) {
    // A terminated instance's network interface lingers for a few seconds and keeps the group in use.
    for (let attempt = 1; ; attempt++) {
      try {
        await o.session.change(step, ec2, new DeleteSecurityGroupCommand({ GroupId: group.GroupId }), undefined);
        break;
      } catch (err) {
        const name = ((err as DeployError).cause as { name?: string })?.name;
        if (name !== 'DependencyViolation' || attempt >= 12) throw err;
        await new Promise((r) => setTimeout(r, o.retryDelayMs ?? 5000));
      }
    }
  }
  o.session.report(step, 'deleted', SecurityGroups.map((g) => g.GroupId).join(', '));
}

async function deleteQueue({ clients: { sqs }, session }: TeardownOptions, QueueName: string) {
  const step = `queue ${QueueName}`;
  const found = await session.read(step, sqs, new GetQueueUrlCommand({ QueueName })).catch(orMissing);
  if (!found?.QueueUrl) {
    session.report(step, 'already gone');
    return;
  }
  await session.change(step, sqs, new DeleteQueueCommand({ QueueUrl: found.QueueUrl }), undefined);
  session.report(step, 'deleted');
}

async function deleteBucket({ clients: { s3 }, session }: TeardownOptions, Bucket: string) {
  const step = `bucket ${Bucket}`;
  const exists = await session.read(step, s3, new HeadBucketCommand({ Bucket })).then(
    () => true,
    (err: unknown) => orMissing(err) ?? false,
  );
  if (!exists) {
    session.report(step, 'already gone');
    return;
  }
  let objects = 0;
  let ContinuationToken: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await session.read(
      step,
      s3,
      new ListObjectsV2Command({ Bucket, ContinuationToken }),
    );
    const keys = (page.Contents ?? []).map((c) => ({ Key: c.Key! }));
    if (keys.length) {
      await session.change(
        step,
        s3,
        new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }),
        undefined,
      );
      objects += keys.length;
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  await session.change(step, s3, new DeleteBucketCommand({ Bucket }), undefined);
  session.report(step, 'deleted', `after emptying ${objects} objects`);
}
