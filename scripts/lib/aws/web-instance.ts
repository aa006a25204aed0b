/**
 * The deployment's configuration file and the web instance. Provisioning writes `facefleet.<prefix>.env`: the
 * variables src/shared/config.ts reads on the web instance (region, prefix, launch template, settings), with
 * the queue URLs and bucket names as comments for people. `npm run aws:web` launches the web instance with that
 * file in its user data, where the web tier and autoscaler units read it (systemd EnvironmentFile).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DescribeInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  waitUntilInstanceRunning,
  type DescribeInstancesCommandOutput,
  type Instance,
  type RunInstancesCommandOutput,
} from '@aws-sdk/client-ec2';
import { environmentFile, instanceEnvironment } from '../../../src/shared/instance-environment.js';
import type { Config } from '../../../src/shared/config.js';
import { deploymentNames, WEB_TAG } from './policies.js';
import { DEPLOYMENT_TAG, WEB_PORT, type AwsClients, type Provisioned } from './provision.js';
import { DeployError, type Session } from './session.js';

const TEMPLATE = fileURLToPath(new URL('../../../deploy/web/user-data.sh', import.meta.url));
export const WEB_UNITS = ['facefleet-web.service', 'facefleet-autoscaler.service'].map((unit) =>
  fileURLToPath(new URL(`../../../deploy/web/${unit}`, import.meta.url)),
);
/** The course's name for the web instance. */
export const WEB_INSTANCE_NAME = 'web-instance';

/**
 * What the web tier and the autoscaler read on the web instance: the settings declared for it (settings.ts),
 * its port, and the launch template provisioning made for the workers.
 */
export function webEnvironment(config: Config, launchTemplateId: string | undefined): Record<string, string> {
  return {
    ...instanceEnvironment(config, 'web'),
    ...(launchTemplateId ? { APP_TIER_LAUNCH_TEMPLATE: launchTemplateId } : {}),
    PORT: String(WEB_PORT),
  };
}

/** The file provisioning writes: the variables, and what was created, as comments. */
export function deploymentFile(config: Config, p: Provisioned, now: Date = new Date()): string {
  const n = p.names;
  return [
    `# facefleet deployment "${config.resources.prefix}" in ${config.aws.region}, written by npm run aws:provision`,
    `# on ${now.toISOString()}. npm run aws:web puts these variables on the web instance (/etc/facefleet/web.env).`,
    `# Buckets: ${n.inBucket}, ${n.outBucket}, ${n.galleryBucket}`,
    `# Request queue: ${p.queueUrls.request}`,
    `# Response queue: ${p.queueUrls.response}`,
    `# Dead-letter queue: ${p.queueUrls.deadLetter}`,
    `# Launch template: ${p.launchTemplateId ?? 'none yet (run provisioning again with --ami)'}`,
    `# Security groups: web ${p.webSecurityGroupId}, workers ${p.workerSecurityGroupId} (VPC ${p.vpcId})`,
    `# Instance profiles: ${n.webRole}, ${n.workerRole}`,
    environmentFile(webEnvironment(config, p.launchTemplateId)),
    '',
  ].join('\n');
}

/** The web instance's user data, with the deployment file's variables (comments dropped). */
export function renderWebUserData(deploymentFileText: string): string {
  const variables = deploymentFileText
    .split('\n')
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
    .join('\n');
  return readFileSync(TEMPLATE, 'utf8').replace('{{WEB_ENV}}', variables);
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
export async function ensureWebInstance(o: WebInstanceOptions): Promise<Instance | undefined> {
  const { ec2 } = o.clients;
  const prefix = o.config.resources.prefix;
  const step = `web instance ${WEB_INSTANCE_NAME}`;
  const { Reservations = [] } = await o.session.read<DescribeInstancesCommandOutput>(
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
    await o.session.change(step, ec2, new StartInstancesCommand({ InstanceIds: [existing.InstanceId!] }), undefined);
    o.session.report(step, 'updated', `${existing.InstanceId} started`);
    return existing;
  }
  if (existing) {
    o.session.report(step, 'unchanged', `${existing.InstanceId}, ${existing.State?.Name}`);
    return existing;
  }
  const names = deploymentNames(prefix);
  const run = new RunInstancesCommand({
    ImageId: o.amiId,
    InstanceType: o.instanceType as never,
    MinCount: 1,
    MaxCount: 1,
    IamInstanceProfile: { Name: names.webRole },
    SecurityGroupIds: [o.securityGroupId],
    ...(o.config.fleet.ec2.subnetId ? { SubnetId: o.config.fleet.ec2.subnetId } : {}),
    UserData: Buffer.from(renderWebUserData(o.deploymentFileText)).toString('base64'),
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
      launched = await o.session.change<Pick<RunInstancesCommandOutput, 'Instances'>>(step, ec2, run, {
        Instances: [],
      });
      break;
    } catch (err) {
      const message = ((err as DeployError).cause as Error | undefined)?.message ?? '';
      // A profile created seconds ago is not yet known to EC2.
      if (!/instance profile/i.test(message) || attempt >= (o.profileAttempts ?? 12)) throw err;
      await new Promise((r) => setTimeout(r, o.retryDelayMs ?? 5000));
    }
  }
  const instance = launched?.Instances?.[0];
  if (o.session.dryRun || !instance?.InstanceId) {
    o.session.report(step, 'created', `${o.amiId}, ${o.instanceType}`);
    return instance;
  }
  await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 300 }, { InstanceIds: [instance.InstanceId] }).catch(
    (err: unknown) => {
      throw new DeployError(`${step}: ${instance.InstanceId} did not reach running`, step, { cause: err });
    },
  );
  const { Reservations: after = [] } = await o.session.read<DescribeInstancesCommandOutput>(
    step,
    ec2,
    new DescribeInstancesCommand({ InstanceIds: [instance.InstanceId] }),
  );
  const running = after[0]?.Instances?.[0] ?? instance;
  o.session.report(step, 'created', `${running.InstanceId}, ${running.PublicIpAddress ?? 'no public address'}`);
  return running;
}
