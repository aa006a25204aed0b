/**
 * `npm run aws:provision`: everything the service needs in an AWS account, idempotently. Each step reads
 * what exists first and changes only what differs, so a second run changes nothing and says so. One file per
 * kind of resource, in the order they are made: buckets.ts (public access blocked, encrypted, retention),
 * queues.ts (course limits, redrive), iam-roles.ts (least-privilege policies from iam-policies.ts, instance
 * profiles), students-table.ts (DynamoDB), video-events.ts (S3 events of videos to the video queue),
 * security-groups.ts, launch-template.ts.
 */
import type { Config } from '../shared/config/config.js';
import { retentionRules, type QueueUrls } from '../shared/aws/resources.js';
import { ensureStudentsTable } from './students-table.js';
import { ensureVideoEvents } from './video-events.js';
import { ensureBucket } from './buckets.js';
import { ensureRoles } from './iam-roles.js';
import { ensureLaunchTemplate } from './launch-template.js';
import { deploymentNames, WEB_PORT, type DeploymentNames } from './names.js';
import type { IpPermission } from '@aws-sdk/client-ec2';
import { DEFAULT_MONITOR_PORT } from '../shared/config/settings.js';
import { ensureLoadBalancer, ensureWebGroup, subnetsInTwoZones, webGroupTimeouts } from './load-balancer.js';
import { ensureNamedLaunchTemplate } from './launch-template.js';
import { webGroupLaunchData } from './web-environment.js';
import { ensureQueues } from './queues.js';
import { defaultVpc, ensureSecurityGroup, vpcSubnets } from './security-groups.js';
import { ensureAutoScalingGroup } from './auto-scaling-group.js';
import type { Deployment } from './session.js';

export interface ProvisionOptions extends Deployment {
  /** The deployment's configuration (FACEFLEET_STACK=aws, its region and prefix). */
  readonly config: Config;
  /** Who may reach the web tier's port 8000, as a CIDR (e.g. 203.0.113.7/32). */
  readonly allowCidr: string;
  /** The baked app-tier AMI; without it the launch template waits for a later run. */
  readonly amiId?: string;
  readonly instanceType: string;
  /** Default: the region's default VPC. */
  readonly vpcId?: string;
  /** An Auto Scaling group for the app tier (FLEET_DRIVER=asg), with a warm pool of this many stopped instances. */
  readonly group?: { readonly warmPoolSize: number; readonly subnetIds?: readonly string[] };
  /**
   * A load balancer in front of an Auto Scaling group of web instances of this type (load-balancer.ts), sized
   * by WEB_GROUP_MIN_SIZE, WEB_GROUP_MAX_SIZE and WEB_GROUP_REQUESTS_PER_TARGET.
   */
  readonly webGroup?: { readonly instanceType: string };
  /** Systems Manager Session Manager on the instances (iam-roles.ts): a shell with no SSH port. */
  readonly ssm?: boolean;
}

export interface Provisioned {
  readonly names: DeploymentNames;
  readonly account: string;
  readonly queueUrls: QueueUrls;
  readonly vpcId: string;
  readonly webSecurityGroupId: string;
  readonly workerSecurityGroupId: string;
  readonly launchTemplateId: string | undefined;
  /** The app tier's Auto Scaling group, when provisioned with one. */
  readonly group?: string;
  /** The web group and its load balancer, when provisioned with them. */
  readonly webGroup?: { readonly name: string; readonly loadBalancerDns: string; readonly launchTemplateId: string };
}

export async function provision(options: ProvisionOptions): Promise<Provisioned> {
  const names = deploymentNames(options.config.resources.prefix);
  const expiring = new Map(retentionRules(names).map((r) => [r.bucket as string, r.prefix as string]));
  for (const bucket of [names.inBucket, names.outBucket, names.galleryBucket]) {
    await ensureBucket(options, bucket, expiring.get(bucket));
  }
  const queueUrls = await ensureQueues(options);
  const account = await ensureRoles(options, names);
  await ensureStudentsTable({ dynamodb: options.clients.dynamodb, session: options.session }, names.studentsTable);
  await ensureVideoEvents(
    options,
    names,
    account,
    queueUrls.video,
    `arn:aws:sqs:${options.config.aws.region}:${account}:${names.videoQueue}`,
  );
  const vpcId = options.vpcId ?? (await defaultVpc(options));
  const fromAllowed = {
    IpProtocol: 'tcp',
    FromPort: WEB_PORT,
    ToPort: WEB_PORT,
    IpRanges: [{ CidrIp: options.allowCidr }],
  };
  // With a web group: its load balancer takes the clients' requests and passes them to the web instances.
  const loadBalancerSecurityGroupId = options.webGroup
    ? await ensureSecurityGroup(options, names.loadBalancerSecurityGroup, vpcId, [fromAllowed])
    : undefined;
  const webSecurityGroupId = await ensureSecurityGroup(options, names.webSecurityGroup, vpcId, (own) => [
    fromAllowed,
    ...(loadBalancerSecurityGroupId ? webGroupIngress(options.config, own, loadBalancerSecurityGroupId) : []),
  ]);
  const workerSecurityGroupId = await ensureSecurityGroup(options, names.workerSecurityGroup, vpcId, []);
  let launchTemplateId: string | undefined;
  if (options.amiId) {
    launchTemplateId = await ensureLaunchTemplate(options, names, options.amiId, workerSecurityGroupId);
  } else {
    options.session.report(
      `launch template ${names.launchTemplate}`,
      'unchanged',
      'skipped: no --ami yet (bake the app-tier AMI, then run again with --ami ami-…)',
    );
  }
  let group: string | undefined;
  if (options.group) {
    if (!launchTemplateId || !options.clients.autoscaling) {
      options.session.report(
        `Auto Scaling group ${names.appTierGroup}`,
        'unchanged',
        'skipped: it needs the launch template (--ami)',
      );
    } else {
      const subnetIds = options.group.subnetIds ?? (await vpcSubnets(options, vpcId));
      await ensureAutoScalingGroup(
        { autoscaling: options.clients.autoscaling, session: options.session },
        {
          name: names.appTierGroup,
          launchTemplateId,
          subnetIds,
          maxSize: options.config.autoscaler.policy.maxWorkers,
          prefix: options.config.resources.prefix,
          hookName: names.drainHook,
          launchHookName: options.config.fleet.group.launchHook,
          // Long enough for a worker to answer what it holds; the hook's own limit is 7200 s.
          drainSeconds: options.config.fleet.group.hookTimeoutSeconds,
          warmPoolSize: options.group.warmPoolSize,
        },
      );
      group = names.appTierGroup;
    }
  }
  let webGroup: Provisioned['webGroup'];
  if (options.webGroup && loadBalancerSecurityGroupId) {
    webGroup = await provisionWebGroup(options, {
      names,
      vpcId,
      loadBalancerSecurityGroupId,
      webSecurityGroupId,
      launchTemplateId,
    });
  }
  return {
    names,
    account,
    queueUrls,
    vpcId,
    webSecurityGroupId,
    workerSecurityGroupId,
    launchTemplateId,
    group,
    webGroup,
  };
}

/**
 * The web instances' inbound rules besides the clients' port: the load balancer's requests, and the group's
 * calls to the web instance (tagged like them, in the same security group) for the autoscaler's status and
 * the monitor.
 */
function webGroupIngress(config: Config, own: string, loadBalancer: string): IpPermission[] {
  const from = (port: number, GroupId: string) => ({
    IpProtocol: 'tcp',
    FromPort: port,
    ToPort: port,
    UserIdGroupPairs: [{ GroupId }],
  });
  return [from(WEB_PORT, loadBalancer), from(config.autoscaler.port, own), from(DEFAULT_MONITOR_PORT, own)];
}

async function provisionWebGroup(
  options: ProvisionOptions,
  made: {
    names: DeploymentNames;
    vpcId: string;
    loadBalancerSecurityGroupId: string;
    webSecurityGroupId: string;
    launchTemplateId: string | undefined;
  },
): Promise<Provisioned['webGroup']> {
  const { names } = made;
  const { elb, autoscaling } = options.clients;
  const step = `Auto Scaling group ${names.webGroup}`;
  if (!options.amiId || !made.launchTemplateId || !elb || !autoscaling) {
    options.session.report(step, 'unchanged', 'skipped: the web group needs the AMI (--ami)');
    return undefined;
  }
  const subnetIds =
    options.group?.subnetIds ?? (await subnetsInTwoZones(options.clients.ec2, options.session, made.vpcId));
  const webLaunchTemplateId = await ensureNamedLaunchTemplate(
    options,
    names.webLaunchTemplate,
    webGroupLaunchData({
      config: options.config,
      names,
      amiId: options.amiId,
      instanceType: options.webGroup!.instanceType,
      securityGroupId: made.webSecurityGroupId,
      appTierLaunchTemplateId: made.launchTemplateId,
    }),
    `${options.amiId}, ${options.webGroup!.instanceType}, the web tier only`,
  );
  const { group } = options.config.web;
  const spec = {
    names,
    prefix: options.config.resources.prefix,
    vpcId: made.vpcId,
    subnetIds,
    loadBalancerSecurityGroupId: made.loadBalancerSecurityGroupId,
    launchTemplateId: webLaunchTemplateId,
    minSize: group.minSize,
    maxSize: group.maxSize,
    requestsPerTarget: group.requestsPerTarget,
    ...webGroupTimeouts(options.config),
  };
  const balancer = await ensureLoadBalancer({ elb, session: options.session }, spec);
  await ensureWebGroup({ autoscaling, session: options.session }, spec, balancer);
  return { name: names.webGroup, loadBalancerDns: balancer.dnsName, launchTemplateId: webLaunchTemplateId };
}
