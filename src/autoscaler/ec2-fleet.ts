/**
 * The EC2 fleet driver: app-tier workers are instances launched from a launch template or an AMI, named
 * `app-tier-instance-<n>` (the lowest free n) and tagged with our fleet's name, which is how a restarted
 * autoscaler finds them again. In warm-pool mode it starts and stops a pool of pre-created instances instead
 * of launching and terminating, which skips most of a cold boot.
 *
 * Each launch is its own RunInstances call with a client token, so the SDK's retries never create a second
 * instance; a failed launch (throttling, InsufficientInstanceCapacity) is logged and, if none succeeded,
 * thrown for the controller to back off and retry in a later round.
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { ConfigError, type Config } from '../shared/config/config.js';
import type { Logger } from '../shared/logger.js';
import { lowestFreeNumbers, type Fleet, type FleetWorker, type WorkerState } from './fleet.js';
import { renderWorkerUserData } from './user-data.js';

/** The tag that marks our instances; its value is the fleet's name (the resource prefix). */
export const FLEET_TAG = 'facefleet:fleet';
/** The course's instance names: `app-tier-instance-<n>`. */
export const INSTANCE_NAME_PREFIX = 'app-tier-instance-';

export interface Ec2FleetOptions {
  readonly ec2: EC2Client;
  /** Value of the fleet tag: the resource prefix. */
  readonly fleetName: string;
  readonly launchTemplate?: string;
  readonly amiId?: string;
  readonly instanceType?: string;
  readonly subnetId?: string;
  readonly securityGroupIds?: readonly string[];
  /** Name or ARN of the workers' instance profile. */
  readonly instanceProfile?: string;
  /** Plain-text user data (encoded here); leave undefined to use the launch template's. */
  readonly userData?: string;
  readonly warmPool: boolean;
  readonly logger: Logger;
}

const STATES: Record<string, WorkerState | 'pool'> = {
  pending: 'starting',
  running: 'running',
  stopping: 'stopping',
  'shutting-down': 'stopping',
  stopped: 'pool',
};

interface Described extends FleetWorker {
  readonly pooled: boolean;
}

export class Ec2Fleet implements Fleet {
  constructor(private readonly options: Ec2FleetOptions) {}

  async list(): Promise<FleetWorker[]> {
    return (await this.describe()).filter((i) => !i.pooled).map(({ id, number, state }) => ({ id, number, state }));
  }

  async launch(count: number): Promise<string[]> {
    const known = await this.describe();
    const launched: string[] = [];
    if (this.options.warmPool) {
      const pool = known.filter((i) => i.pooled).sort((a, b) => a.number - b.number);
      const ids = pool.slice(0, count).map((i) => i.id);
      if (ids.length > 0) {
        await this.options.ec2.send(new StartInstancesCommand({ InstanceIds: ids }));
        this.options.logger.info({ instanceIds: ids }, 'started pooled instances');
        launched.push(...ids);
      }
    }
    const numbers = lowestFreeNumbers(
      known.map((i) => i.number),
      count - launched.length,
    );
    const results = await Promise.allSettled(numbers.map((n) => this.runOne(n)));
    const failures: unknown[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') launched.push(r.value);
      else {
        failures.push(r.reason);
        const err = r.reason as { name?: string; message?: string };
        this.options.logger.error(
          { name: `${INSTANCE_NAME_PREFIX}${numbers[i]}`, code: err.name, reason: err.message },
          'launch failed',
        );
      }
    });
    if (failures.length > 0 && launched.length === 0) throw failures[0];
    if (failures.length > 0) {
      this.options.logger.warn(
        { launched: launched.length, wanted: count },
        'launched part of the instances asked for',
      );
    }
    return launched;
  }

  async stop(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const InstanceIds = [...ids];
    if (this.options.warmPool) await this.options.ec2.send(new StopInstancesCommand({ InstanceIds }));
    else await this.options.ec2.send(new TerminateInstancesCommand({ InstanceIds }));
    this.options.logger.info(
      { instanceIds: InstanceIds, how: this.options.warmPool ? 'stop' : 'terminate' },
      'stopping instances',
    );
  }

  private async runOne(number: number): Promise<string> {
    const name = `${INSTANCE_NAME_PREFIX}${number}`;
    const { options } = this;
    const template = options.launchTemplate
      ? {
          LaunchTemplate: options.launchTemplate.startsWith('lt-')
            ? { LaunchTemplateId: options.launchTemplate, Version: '$Default' }
            : { LaunchTemplateName: options.launchTemplate, Version: '$Default' },
        }
      : {};
    const profile = options.instanceProfile
      ? {
          IamInstanceProfile: options.instanceProfile.startsWith('arn:')
            ? { Arn: options.instanceProfile }
            : { Name: options.instanceProfile },
        }
      : {};
    const input: RunInstancesCommandInput = {
      ...template,
      ...(options.amiId ? { ImageId: options.amiId } : {}),
      ...(options.instanceType
        ? { InstanceType: options.instanceType as RunInstancesCommandInput['InstanceType'] }
        : {}),
      ...(options.subnetId ? { SubnetId: options.subnetId } : {}),
      ...(options.securityGroupIds?.length ? { SecurityGroupIds: [...options.securityGroupIds] } : {}),
      ...profile,
      ...(options.userData ? { UserData: Buffer.from(options.userData).toString('base64') } : {}),
      MinCount: 1,
      MaxCount: 1,
      // The same token on every retry of this call: EC2 launches at most one instance for it.
      ClientToken: `${options.fleetName}-${number}-${randomUUID()}`.slice(0, 64),
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'Name', Value: name },
            { Key: FLEET_TAG, Value: options.fleetName },
          ],
        },
      ],
    };
    const { Instances = [] } = await options.ec2.send(new RunInstancesCommand(input));
    const id = Instances[0]?.InstanceId;
    if (!id) throw new Error(`RunInstances returned no instance for ${name}`);
    options.logger.info({ instanceId: id, name }, 'launched instance');
    return id;
  }

  private async describe(): Promise<Described[]> {
    const found: Described[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.options.ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: `tag:${FLEET_TAG}`, Values: [this.options.fleetName] },
            { Name: 'instance-state-name', Values: Object.keys(STATES) },
          ],
          NextToken,
        }),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          const described = toWorker(instance);
          if (described) found.push(described);
        }
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return found.sort((a, b) => a.number - b.number);
  }
}

function toWorker(instance: Instance): Described | undefined {
  const state = STATES[instance.State?.Name ?? ''];
  if (!instance.InstanceId || !state) return undefined;
  const name = instance.Tags?.find((t) => t.Key === 'Name')?.Value ?? '';
  const number = name.startsWith(INSTANCE_NAME_PREFIX) ? Number(name.slice(INSTANCE_NAME_PREFIX.length)) || 0 : 0;
  return {
    id: instance.InstanceId,
    number,
    state: state === 'pool' ? 'stopping' : state,
    pooled: state === 'pool',
  };
}

/** The driver from the configuration, with the workers' user data rendered from it. */
export function createEc2Fleet(config: Config, logger: Logger): Ec2Fleet {
  const ec2Config = config.fleet.ec2;
  if (!ec2Config.launchTemplate && !ec2Config.amiId) {
    throw new ConfigError([
      'APP_TIER_LAUNCH_TEMPLATE: the ec2 fleet needs APP_TIER_LAUNCH_TEMPLATE or APP_TIER_AMI_ID',
    ]);
  }
  return new Ec2Fleet({
    ec2: new EC2Client({ region: config.aws.region }),
    fleetName: config.resources.prefix,
    launchTemplate: ec2Config.launchTemplate,
    amiId: ec2Config.amiId,
    instanceType: ec2Config.instanceType,
    subnetId: ec2Config.subnetId,
    securityGroupIds: ec2Config.securityGroupIds,
    instanceProfile: ec2Config.instanceProfile,
    // A launch template carries its own user data (provisioning renders it); an AMI alone needs ours.
    userData: ec2Config.launchTemplate ? undefined : renderWorkerUserData(config),
    warmPool: ec2Config.warmPool,
    logger,
  });
}
