/**
 * The web tier as a group (`npm run aws:provision -- --web-group`): an Application Load Balancer on port 8000
 * across two availability zones, in front of an Auto Scaling group of web instances that grows and shrinks
 * with the requests each one takes (target tracking on ALBRequestCountPerTarget). The web instance from
 * `npm run aws:web` stays the one that runs the autoscaler and the monitor; the group's instances run only the
 * web tier, each process on a reply queue of its own (reply-queues.ts).
 *
 * The timeouts follow one rule (front-door-timeouts.ts): the load balancer's idle timeout is longer than the
 * longest wait for an answer, the web tier's keep-alive longer than that, and a web instance being removed is
 * deregistered (no new requests; those it holds finish) for as long as the longest upload and its wait. The
 * group waits for that before it terminates the instance, whose web tier then stops and deletes its queue.
 *
 * What exists is compared with what is wanted (pure functions below) and only differences change.
 */
import {
  AttachLoadBalancerTargetGroupsCommand,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  PutScalingPolicyCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
  type ScalingPolicy,
} from '@aws-sdk/client-auto-scaling';
import { DescribeSubnetsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type ElasticLoadBalancingV2Client,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Config } from '../shared/config/config.js';
import { frontDoorTimeouts } from '../shared/config/front-door-timeouts.js';
import { WEB_GROUP_TAG } from '../shared/config/resources-names.js';
import { DEPLOYMENT_TAG, WEB_GROUP_INSTANCE_NAME, WEB_PORT, type DeploymentNames } from './names.js';
import { alreadyGone, DeployError, orMissing, type Session } from './session.js';

/** What the web group is made of. */
export interface WebGroupSpec {
  readonly names: DeploymentNames;
  readonly prefix: string;
  readonly vpcId: string;
  /** One subnet in each of (at least) two availability zones. */
  readonly subnetIds: readonly string[];
  readonly loadBalancerSecurityGroupId: string;
  readonly launchTemplateId: string;
  readonly minSize: number;
  readonly maxSize: number;
  /** The target-tracking policy's target: requests a minute per web instance. */
  readonly requestsPerTarget: number;
  /** The load balancer's idle timeout and the target group's deregistration delay, in seconds. */
  readonly idleTimeoutSeconds: number;
  readonly deregistrationDelaySeconds: number;
}

export interface WebGroupSteps {
  readonly elb: ElasticLoadBalancingV2Client;
  readonly autoscaling: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly session: Session;
}

/** A new web instance boots, installs nothing, and warms no model: it takes requests within a few minutes. */
const WEB_INSTANCE_WARMUP_SECONDS = 180;

/** The spec's timeouts from the deployment's config. */
export function webGroupTimeouts(config: Pick<Config, 'web' | 'video'>) {
  const { idleTimeoutSeconds, deregistrationDelaySeconds } = frontDoorTimeouts(config);
  return { idleTimeoutSeconds, deregistrationDelaySeconds };
}

/** The target group: HTTP on the web port, healthy when /readyz answers 200 (S3 and SQS reachable). */
export function targetGroupSettings(s: Pick<WebGroupSpec, 'names' | 'vpcId'>) {
  return {
    Name: s.names.webTargetGroup,
    Protocol: 'HTTP' as const,
    Port: WEB_PORT,
    VpcId: s.vpcId,
    TargetType: 'instance' as const,
    HealthCheckProtocol: 'HTTP' as const,
    HealthCheckPath: '/readyz',
    HealthCheckIntervalSeconds: 10,
    HealthCheckTimeoutSeconds: 5,
    HealthyThresholdCount: 2,
    UnhealthyThresholdCount: 2,
    Matcher: { HttpCode: '200' },
  };
}

/** The target group's health check alone, as ModifyTargetGroup takes it. */
function healthCheckOf(s: Pick<WebGroupSpec, 'names' | 'vpcId'>) {
  const t = targetGroupSettings(s);
  return {
    HealthCheckProtocol: t.HealthCheckProtocol,
    HealthCheckPath: t.HealthCheckPath,
    HealthCheckIntervalSeconds: t.HealthCheckIntervalSeconds,
    HealthCheckTimeoutSeconds: t.HealthCheckTimeoutSeconds,
    HealthyThresholdCount: t.HealthyThresholdCount,
    UnhealthyThresholdCount: t.UnhealthyThresholdCount,
    Matcher: t.Matcher,
  };
}

/** The health-check settings of an existing target group that differ from what is wanted. */
export function targetGroupDifferences(current: TargetGroup, s: Pick<WebGroupSpec, 'names' | 'vpcId'>): string[] {
  const want = targetGroupSettings(s);
  const diffs: string[] = [];
  if (current.HealthCheckPath !== want.HealthCheckPath) diffs.push('health-check path');
  if (current.HealthCheckIntervalSeconds !== want.HealthCheckIntervalSeconds) diffs.push('health-check interval');
  if (current.HealthCheckTimeoutSeconds !== want.HealthCheckTimeoutSeconds) diffs.push('health-check timeout');
  if (current.HealthyThresholdCount !== want.HealthyThresholdCount) diffs.push('healthy threshold');
  if (current.UnhealthyThresholdCount !== want.UnhealthyThresholdCount) diffs.push('unhealthy threshold');
  if (current.Matcher?.HttpCode !== want.Matcher.HttpCode) diffs.push('healthy status');
  return diffs;
}

/** The web group's settings that provisioning owns (the desired capacity is the scaling policy's). */
export function webGroupSettings(s: WebGroupSpec) {
  return {
    AutoScalingGroupName: s.names.webGroup,
    LaunchTemplate: { LaunchTemplateId: s.launchTemplateId, Version: '$Default' },
    MinSize: s.minSize,
    MaxSize: s.maxSize,
    VPCZoneIdentifier: [...s.subnetIds].sort().join(','),
    // The load balancer's health check, not only EC2's: an instance whose web tier does not answer is replaced.
    HealthCheckType: 'ELB',
    HealthCheckGracePeriod: WEB_INSTANCE_WARMUP_SECONDS,
    DefaultInstanceWarmup: WEB_INSTANCE_WARMUP_SECONDS,
  };
}

export function webGroupDifferences(current: AutoScalingGroup, s: WebGroupSpec): string[] {
  const want = webGroupSettings(s);
  const diffs: string[] = [];
  if (current.LaunchTemplate?.LaunchTemplateId !== want.LaunchTemplate.LaunchTemplateId) diffs.push('launch template');
  if (current.MinSize !== want.MinSize) diffs.push('minimum size');
  if (current.MaxSize !== want.MaxSize) diffs.push('maximum size');
  const subnets = (current.VPCZoneIdentifier ?? '').split(',').filter(Boolean).sort().join(',');
  if (subnets !== want.VPCZoneIdentifier) diffs.push('subnets');
  if (current.HealthCheckType !== want.HealthCheckType) diffs.push('health check');
  if (current.HealthCheckGracePeriod !== want.HealthCheckGracePeriod) diffs.push('health-check grace period');
  return diffs;
}

/**
 * The metric's resource label, `app/<lb name>/<id>/targetgroup/<tg name>/<id>`, from the two ARNs: what
 * ALBRequestCountPerTarget is measured over.
 */
export function requestCountLabel(loadBalancerArn: string, targetGroupArn: string): string {
  const lb = /:loadbalancer\/(app\/[^/]+\/[^/]+)$/.exec(loadBalancerArn)?.[1];
  const tg = /:(targetgroup\/[^/]+\/[^/]+)$/.exec(targetGroupArn)?.[1];
  if (!lb || !tg)
    throw new Error(`not an application load balancer and target group: ${loadBalancerArn}, ${targetGroupArn}`);
  return `${lb}/${tg}`;
}

export function scalingPolicySettings(s: WebGroupSpec, label: string) {
  return {
    AutoScalingGroupName: s.names.webGroup,
    PolicyName: s.names.webScalingPolicy,
    PolicyType: 'TargetTrackingScaling',
    EstimatedInstanceWarmup: WEB_INSTANCE_WARMUP_SECONDS,
    TargetTrackingConfiguration: {
      PredefinedMetricSpecification: {
        PredefinedMetricType: 'ALBRequestCountPerTarget' as const,
        ResourceLabel: label,
      },
      TargetValue: s.requestsPerTarget,
    },
  };
}

export function sameScalingPolicy(current: ScalingPolicy | undefined, s: WebGroupSpec, label: string): boolean {
  const want = scalingPolicySettings(s, label).TargetTrackingConfiguration;
  const have = current?.TargetTrackingConfiguration;
  return (
    current?.PolicyType === 'TargetTrackingScaling' &&
    have?.TargetValue === want.TargetValue &&
    have.PredefinedMetricSpecification?.PredefinedMetricType ===
      want.PredefinedMetricSpecification.PredefinedMetricType &&
    have.PredefinedMetricSpecification.ResourceLabel === label
  );
}

/**
 * One subnet in each of two availability zones (a load balancer needs two), the first by zone name: where the
 * load balancer listens and the web group's instances run.
 */
export async function subnetsInTwoZones(ec2: EC2Client, session: Session, vpcId: string): Promise<string[]> {
  const step = `subnets of ${vpcId}`;
  const { Subnets = [] } = await session.read(
    step,
    ec2,
    new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  const byZone = new Map<string, string>();
  for (const subnet of [...Subnets].sort((a, b) => (a.SubnetId ?? '').localeCompare(b.SubnetId ?? ''))) {
    if (subnet.AvailabilityZone && subnet.SubnetId && !byZone.has(subnet.AvailabilityZone))
      byZone.set(subnet.AvailabilityZone, subnet.SubnetId);
  }
  const zones = [...byZone.keys()].sort();
  if (zones.length < 2)
    throw new DeployError(`${step}: a load balancer needs subnets in two availability zones; pass --subnets.`, step);
  return zones.slice(0, 2).map((z) => byZone.get(z)!);
}

/** Makes (or brings up to date) the target group, the load balancer and its listener; returns the two ARNs. */
export async function ensureLoadBalancer(
  { elb, session }: Pick<WebGroupSteps, 'elb' | 'session'>,
  s: WebGroupSpec,
): Promise<{ loadBalancerArn: string; targetGroupArn: string; dnsName: string }> {
  const tags = [{ Key: DEPLOYMENT_TAG, Value: s.prefix }];
  // The target group.
  let step = `target group ${s.names.webTargetGroup}`;
  const foundGroup = await session
    .read(step, elb, new DescribeTargetGroupsCommand({ Names: [s.names.webTargetGroup] }))
    .catch(orMissing);
  let targetGroup = foundGroup?.TargetGroups?.[0];
  if (!targetGroup) {
    const created = await session.change(
      step,
      elb,
      new CreateTargetGroupCommand({ ...targetGroupSettings(s), Tags: tags }),
      {
        TargetGroups: [{ TargetGroupArn: `arn:aws:elasticloadbalancing:::targetgroup/${s.names.webTargetGroup}/new` }],
      },
    );
    targetGroup = created.TargetGroups?.[0];
    session.report(step, 'created', `HTTP ${WEB_PORT}, healthy on GET /readyz`);
  } else {
    const diffs = targetGroupDifferences(targetGroup, s);
    if (diffs.length === 0) session.report(step, 'unchanged');
    else {
      await session.change(
        step,
        elb,
        new ModifyTargetGroupCommand({ TargetGroupArn: targetGroup.TargetGroupArn, ...healthCheckOf(s) }),
      );
      session.report(step, 'updated', diffs.join(', '));
    }
  }
  const targetGroupArn = targetGroup?.TargetGroupArn;
  if (!targetGroupArn) throw new DeployError(`${step}: no ARN came back`, step);
  await ensureAttribute(
    session,
    elb,
    `${step}: deregistration delay`,
    async () =>
      (await session.read(step, elb, new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn })))
        .Attributes,
    (Attributes) => new ModifyTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn, Attributes }),
    'deregistration_delay.timeout_seconds',
    String(s.deregistrationDelaySeconds),
    foundGroup?.TargetGroups?.[0] === undefined,
  );

  // The load balancer.
  step = `load balancer ${s.names.loadBalancer}`;
  const foundBalancer = await session
    .read(step, elb, new DescribeLoadBalancersCommand({ Names: [s.names.loadBalancer] }))
    .catch(orMissing);
  let balancer = foundBalancer?.LoadBalancers?.[0];
  if (!balancer) {
    const created = await session.change(
      step,
      elb,
      new CreateLoadBalancerCommand({
        Name: s.names.loadBalancer,
        Type: 'application',
        Scheme: 'internet-facing',
        IpAddressType: 'ipv4',
        Subnets: [...s.subnetIds],
        SecurityGroups: [s.loadBalancerSecurityGroupId],
        Tags: tags,
      }),
      {
        LoadBalancers: [
          {
            LoadBalancerArn: `arn:aws:elasticloadbalancing:::loadbalancer/app/${s.names.loadBalancer}/new`,
            DNSName: `${s.names.loadBalancer}.elb.amazonaws.com`,
          },
        ],
      },
    );
    balancer = created.LoadBalancers?.[0];
    session.report(step, 'created', `internet-facing over ${s.subnetIds.length} availability zones`);
  } else {
    const subnets = (balancer.AvailabilityZones ?? []).map((z) => z.SubnetId).sort();
    const same = JSON.stringify(subnets) === JSON.stringify([...s.subnetIds].sort());
    session.report(
      step,
      'unchanged',
      same ? balancer.DNSName : `${balancer.DNSName} (its subnets are kept as they are)`,
    );
  }
  const loadBalancerArn = balancer?.LoadBalancerArn;
  if (!loadBalancerArn) throw new DeployError(`${step}: no ARN came back`, step);
  await ensureAttribute(
    session,
    elb,
    `${step}: idle timeout`,
    async () =>
      (await session.read(step, elb, new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: loadBalancerArn })))
        .Attributes,
    (Attributes) => new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: loadBalancerArn, Attributes }),
    'idle_timeout.timeout_seconds',
    String(s.idleTimeoutSeconds),
    foundBalancer?.LoadBalancers?.[0] === undefined,
  );

  // Its listener: HTTP on the course's port, to the web group.
  step = `listener ${WEB_PORT} of ${s.names.loadBalancer}`;
  const listeners = foundBalancer?.LoadBalancers?.[0]
    ? ((await session.read(step, elb, new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }))).Listeners ??
      [])
    : [];
  const listener = listeners.find((l) => l.Port === WEB_PORT);
  if (!listener) {
    await session.change(
      step,
      elb,
      new CreateListenerCommand({
        LoadBalancerArn: loadBalancerArn,
        Protocol: 'HTTP',
        Port: WEB_PORT,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
      }),
    );
    session.report(step, 'created', `forwards to ${s.names.webTargetGroup}`);
  } else {
    const forwards = listener.DefaultActions?.some((a) => a.TargetGroupArn === targetGroupArn);
    if (!forwards)
      throw new DeployError(`${step} forwards elsewhere: delete it (npm run aws:teardown) and provision again.`, step);
    session.report(step, 'unchanged');
  }
  return { loadBalancerArn, targetGroupArn, dnsName: balancer?.DNSName ?? '' };
}

/** Sets one attribute when it differs (a new resource: always, since the describe would find nothing yet). */
async function ensureAttribute(
  session: Session,
  elb: ElasticLoadBalancingV2Client,
  step: string,
  read: () => Promise<{ Key?: string; Value?: string }[] | undefined>,
  modify: (attributes: { Key: string; Value: string }[]) => object & { readonly input: unknown },
  key: string,
  value: string,
  isNew: boolean,
): Promise<void> {
  const current = isNew ? undefined : (await read())?.find((a) => a.Key === key)?.Value;
  if (current === value) {
    session.report(step, 'unchanged', `${value} s`);
    return;
  }
  await session.change(step, elb, modify([{ Key: key, Value: value }]));
  session.report(step, current === undefined ? 'created' : 'updated', `${value} s`);
}

/** Makes (or brings up to date) the web group, attached to the target group, and its scaling policy. */
export async function ensureWebGroup(
  { autoscaling, session }: Pick<WebGroupSteps, 'autoscaling' | 'session'>,
  s: WebGroupSpec,
  arns: { loadBalancerArn: string; targetGroupArn: string },
): Promise<void> {
  const step = `Auto Scaling group ${s.names.webGroup}`;
  const { AutoScalingGroups = [] } = await session.read(
    step,
    autoscaling,
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [s.names.webGroup] }),
  );
  const current = AutoScalingGroups.find((g) => g.Status !== 'Delete in progress');
  if (!current) {
    await session.change(
      step,
      autoscaling,
      new CreateAutoScalingGroupCommand({
        ...webGroupSettings(s),
        DesiredCapacity: s.minSize,
        TargetGroupARNs: [arns.targetGroupArn],
        Tags: [
          { Key: 'Name', Value: WEB_GROUP_INSTANCE_NAME, PropagateAtLaunch: true },
          { Key: DEPLOYMENT_TAG, Value: s.prefix, PropagateAtLaunch: true },
          { Key: WEB_GROUP_TAG, Value: s.prefix, PropagateAtLaunch: true },
        ],
      }),
    );
    session.report(step, 'created', `${s.minSize} to ${s.maxSize} web instances behind ${s.names.loadBalancer}`);
  } else {
    const diffs = webGroupDifferences(current, s);
    if (diffs.length > 0)
      await session.change(step, autoscaling, new UpdateAutoScalingGroupCommand(webGroupSettings(s)));
    if (!(current.TargetGroupARNs ?? []).includes(arns.targetGroupArn)) {
      await session.change(
        step,
        autoscaling,
        new AttachLoadBalancerTargetGroupsCommand({
          AutoScalingGroupName: s.names.webGroup,
          TargetGroupARNs: [arns.targetGroupArn],
        }),
      );
      diffs.push('target group');
    }
    session.report(step, diffs.length ? 'updated' : 'unchanged', diffs.join(', ') || undefined);
  }
  const policyStep = `scaling policy ${s.names.webScalingPolicy}`;
  const label =
    session.dryRun && !current
      ? 'app/new/new/targetgroup/new/new'
      : requestCountLabel(arns.loadBalancerArn, arns.targetGroupArn);
  const found = current
    ? await session.read(
        policyStep,
        autoscaling,
        new DescribePoliciesCommand({
          AutoScalingGroupName: s.names.webGroup,
          PolicyNames: [s.names.webScalingPolicy],
        }),
      )
    : undefined;
  const policy = found?.ScalingPolicies?.[0];
  if (sameScalingPolicy(policy, s, label)) {
    session.report(policyStep, 'unchanged', `${s.requestsPerTarget} requests a minute per instance`);
    return;
  }
  await session.change(policyStep, autoscaling, new PutScalingPolicyCommand(scalingPolicySettings(s, label)));
  session.report(policyStep, policy ? 'updated' : 'created', `${s.requestsPerTarget} requests a minute per instance`);
}

/**
 * Deletes the load balancer (its listener goes with it), waits until it is gone (its network interfaces keep
 * the security group in use until then), then the target group. Safe to run when they are gone.
 */
export async function deleteLoadBalancer(
  { elb, session }: Pick<WebGroupSteps, 'elb' | 'session'>,
  names: DeploymentNames,
  options: { readonly waitSeconds?: number; readonly pollMs?: number } = {},
): Promise<void> {
  let step = `load balancer ${names.loadBalancer}`;
  const found = await session
    .read(step, elb, new DescribeLoadBalancersCommand({ Names: [names.loadBalancer] }))
    .catch(orMissing);
  const arn = found?.LoadBalancers?.[0]?.LoadBalancerArn;
  if (!arn) session.report(step, 'already gone');
  else {
    await session.change(step, elb, new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }));
    if (!session.dryRun) {
      const deadline = Date.now() + (options.waitSeconds ?? 300) * 1000;
      for (;;) {
        const still = await session
          .read(step, elb, new DescribeLoadBalancersCommand({ Names: [names.loadBalancer] }))
          .catch(orMissing);
        if (!still?.LoadBalancers?.length) break;
        if (Date.now() > deadline)
          throw new DeployError(`${step}: still there after ${options.waitSeconds ?? 300} s`, step);
        await new Promise((r) => setTimeout(r, options.pollMs ?? 5000));
      }
    }
    session.report(step, 'deleted', 'with its listener');
  }
  step = `target group ${names.webTargetGroup}`;
  const group = await session
    .read(step, elb, new DescribeTargetGroupsCommand({ Names: [names.webTargetGroup] }))
    .catch(orMissing);
  const groupArn = group?.TargetGroups?.[0]?.TargetGroupArn;
  if (!groupArn) {
    session.report(step, 'already gone');
    return;
  }
  const gone = await alreadyGone(() =>
    session.change(step, elb, new DeleteTargetGroupCommand({ TargetGroupArn: groupArn })),
  );
  session.report(step, gone ? 'already gone' : 'deleted');
}
