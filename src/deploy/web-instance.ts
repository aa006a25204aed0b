/**
 * `npm run aws:web`: the web instance (the course's `web-instance`), launched with the deployment file's
 * variables in its user data (web-environment.ts), or found running, or started if stopped.
 */
import {
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupsCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  waitUntilInstanceRunning,
  type _InstanceType,
  type Instance,
  type RunInstancesCommandOutput,
} from '@aws-sdk/client-ec2';
import type { Config } from '../shared/config/config.js';
import { WEB_TAG } from '../shared/config/resources-names.js';
import { DEPLOYMENT_TAG, deploymentNames, WEB_INSTANCE_NAME } from './names.js';
import { DeployError, orMissing, type AwsClients, type Session } from './session.js';
import { renderWebUserData } from './web-environment.js';

/**
 * What the web instance is launched from, as provisioning left it: the AMI (given, or the app-tier launch
 * template's: one image serves both tiers) and the web security group. A missing one is a DeployError that
 * says which command makes it.
 */
export async function webInstancePrerequisites(options: {
  readonly prefix: string;
  readonly clients: Pick<AwsClients, 'ec2'>;
  readonly session: Session;
  readonly amiId?: string;
}): Promise<{ amiId: string; securityGroupId: string }> {
  const names = deploymentNames(options.prefix);
  const { ec2 } = options.clients;
  let amiId = options.amiId;
  if (!amiId) {
    const step = `launch template ${names.launchTemplate}`;
    const found = await options.session
      .read(
        step,
        ec2,
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: names.launchTemplate, Versions: ['$Default'] }),
      )
      .catch(orMissing);
    amiId = found?.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.ImageId;
    if (!amiId) {
      throw new DeployError(`${step} has no AMI: run npm run aws:provision with --ami, or pass --ami here.`, step);
    }
  }
  const step = `security group ${names.webSecurityGroup}`;
  const { SecurityGroups = [] } = await options.session.read(
    step,
    ec2,
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [names.webSecurityGroup] }] }),
  );
  const securityGroupId = SecurityGroups[0]?.GroupId;
  if (!securityGroupId) throw new DeployError(`${step} does not exist: run npm run aws:provision first.`, step);
  return { amiId, securityGroupId };
}

export interface WebInstanceOptions {
  readonly config: Config;
  readonly clients: Pick<AwsClients, 'ec2'>;
  readonly session: Session;
  readonly deploymentFileText: string;
  readonly amiId: string;
  readonly instanceType: string;
  readonly securityGroupId: string;
  /** Attempts while a new instance profile is not yet visible to EC2 (IAM is eventually consistent). */
  readonly profileAttempts?: number;
  readonly retryDelayMs?: number;
}

/** Starts the web instance, or finds it running (or starts it if stopped); returns it. */
export async function ensureWebInstance(options: WebInstanceOptions): Promise<Instance | undefined> {
  const { ec2 } = options.clients;
  const prefix = options.config.resources.prefix;
  const step = `web instance ${WEB_INSTANCE_NAME}`;
  const { Reservations = [] } = await options.session.read(
    step,
    ec2,
    new DescribeInstancesCommand({
      Filters: [
        { Name: `tag:${WEB_TAG}`, Values: [prefix] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    }),
  );
  const existing = Reservations.flatMap((r) => r.Instances ?? [])[0];
  if (existing?.State?.Name === 'stopped') {
    await options.session.change(
      step,
      ec2,
      new StartInstancesCommand({ InstanceIds: [existing.InstanceId!] }),
      undefined,
    );
    options.session.report(step, 'updated', `${existing.InstanceId} started`);
    return existing;
  }
  if (existing) {
    options.session.report(step, 'unchanged', `${existing.InstanceId}, ${existing.State?.Name}`);
    return existing;
  }
  const names = deploymentNames(prefix);
  const run = new RunInstancesCommand({
    ImageId: options.amiId,
    InstanceType: options.instanceType as _InstanceType,
    MinCount: 1,
    MaxCount: 1,
    IamInstanceProfile: { Name: names.webRole },
    SecurityGroupIds: [options.securityGroupId],
    ...(options.config.fleet.ec2.subnetId ? { SubnetId: options.config.fleet.ec2.subnetId } : {}),
    UserData: Buffer.from(renderWebUserData(options.deploymentFileText)).toString('base64'),
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
    TagSpecifications: [
      {
        ResourceType: 'instance',
        Tags: [
          { Key: 'Name', Value: WEB_INSTANCE_NAME },
          { Key: WEB_TAG, Value: prefix },
          { Key: DEPLOYMENT_TAG, Value: prefix },
        ],
      },
    ],
  });
  let launched: Pick<RunInstancesCommandOutput, 'Instances'> | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      launched = await options.session.change(step, ec2, run, {
        Instances: [],
      });
      break;
    } catch (err) {
      const message = ((err as DeployError).cause as Error | undefined)?.message ?? '';
      // A profile created seconds ago is not yet known to EC2.
      if (!/instance profile/i.test(message) || attempt >= (options.profileAttempts ?? 12)) throw err;
      await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 5000));
    }
  }
  const instance = launched?.Instances?.[0];
  if (options.session.dryRun || !instance?.InstanceId) {
    options.session.report(step, 'created', `${options.amiId}, ${options.instanceType}`);
    return instance;
  }
  await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 300 }, { InstanceIds: [instance.InstanceId] }).catch(
    (err: unknown) => {
      throw new DeployError(`${step}: ${instance.InstanceId} did not reach running`, step, { cause: err });
    },
  );
  const { Reservations: after = [] } = await options.session.read(
    step,
    ec2,
    new DescribeInstancesCommand({ InstanceIds: [instance.InstanceId] }),
  );
  const running = after[0]?.Instances?.[0] ?? instance;
  options.session.report(step, 'created', `${running.InstanceId}, ${running.PublicIpAddress ?? 'no public address'}`);
  return running;
}
