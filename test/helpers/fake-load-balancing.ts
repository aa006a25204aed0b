import {
  AttachLoadBalancerTargetGroupsCommand,
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  DescribePoliciesCommand,
  DescribeWarmPoolCommand,
  PutScalingPolicyCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
  type ScalingPolicy,
} from '@aws-sdk/client-auto-scaling';
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
  ElasticLoadBalancingV2Client,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type Listener,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { ACCOUNT, awsError } from './fake-aws.js';

/**
 * An account's load balancers, target groups and Auto Scaling groups, as AWS answers for them (behind
 * aws-sdk-client-mock: no local emulator has them); every call's operation lands in `log`.
 */
export function fakeLoadBalancing(log: string[] = []) {
  const elb = mockClient(ElasticLoadBalancingV2Client);
  const autoscaling = mockClient(AutoScalingClient);
  const targetGroups = new Map<string, TargetGroup & { attributes: Map<string, string> }>();
  const balancers = new Map<
    string,
    { arn: string; dns: string; subnets: string[]; attributes: Map<string, string>; listeners: Listener[] }
  >();
  const groups = new Map<string, AutoScalingGroup>();
  const policies = new Map<string, ScalingPolicy>();
  /** Deleted balancers that describes still list a few more times, as on AWS while one is being deleted. */
  const lingering = new Map<string, number>();
  const on = <I>(
    client: typeof elb | typeof autoscaling,
    command: new (...args: never[]) => { readonly input: I },
    handler: (input: I) => unknown,
  ) =>
    (client.on as (c: unknown) => { callsFake(f: (input: I) => unknown): void })(command).callsFake(async (input) => {
      log.push(command.name.replace(/Command$/, ''));
      return handler(input);
    });

  on(elb, DescribeTargetGroupsCommand, ({ Names = [] }) => {
    const found = Names.flatMap((n) => (targetGroups.has(n) ? [targetGroups.get(n)!] : []));
    if (found.length === 0) throw awsError('TargetGroupNotFoundException', 400);
    return { TargetGroups: found };
  });
  on(elb, CreateTargetGroupCommand, (input) => {
    const arn = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/${input.Name}/tg${targetGroups.size}`;
    const group = { ...input, TargetGroupArn: arn, TargetGroupName: input.Name, attributes: new Map() };
    targetGroups.set(input.Name!, group);
    return { TargetGroups: [group] };
  });
  const groupByArn = (arn?: string) => [...targetGroups.values()].find((g) => g.TargetGroupArn === arn)!;
  on(elb, ModifyTargetGroupCommand, (input) => Object.assign(groupByArn(input.TargetGroupArn), input));
  on(elb, DescribeTargetGroupAttributesCommand, ({ TargetGroupArn }) => ({
    Attributes: [...groupByArn(TargetGroupArn).attributes].map(([Key, Value]) => ({ Key, Value })),
  }));
  on(elb, ModifyTargetGroupAttributesCommand, ({ TargetGroupArn, Attributes = [] }) => {
    for (const a of Attributes) groupByArn(TargetGroupArn).attributes.set(a.Key!, a.Value!);
    return {};
  });
  on(elb, DeleteTargetGroupCommand, ({ TargetGroupArn }) => {
    const inUse = [...balancers.values()].some((b) =>
      b.listeners.some((l) => l.DefaultActions?.[0]?.TargetGroupArn === TargetGroupArn),
    );
    if (inUse) throw awsError('ResourceInUseException', 400);
    targetGroups.delete(groupByArn(TargetGroupArn).TargetGroupName!);
    return {};
  });
  on(elb, DescribeLoadBalancersCommand, ({ Names = [] }) => {
    for (const n of Names) {
      const left = lingering.get(n);
      if (left === undefined) continue;
      if (left === 0) {
        balancers.delete(n);
        lingering.delete(n);
      } else lingering.set(n, left - 1);
    }
    const found = Names.flatMap((n) => (balancers.has(n) ? [balancers.get(n)!] : []));
    if (found.length === 0) throw awsError('LoadBalancerNotFoundException', 400);
    return {
      LoadBalancers: found.map((b) => ({
        LoadBalancerArn: b.arn,
        DNSName: b.dns,
        AvailabilityZones: b.subnets.map((SubnetId) => ({ SubnetId })),
      })),
    };
  });
  on(elb, CreateLoadBalancerCommand, (input) => {
    const arn = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/app/${input.Name}/lb1`;
    const dns = `${input.Name}-1.us-east-1.elb.amazonaws.com`;
    balancers.set(input.Name!, {
      arn,
      dns,
      subnets: input.Subnets ?? [],
      attributes: new Map([['idle_timeout.timeout_seconds', '60']]),
      listeners: [],
    });
    return { LoadBalancers: [{ LoadBalancerArn: arn, DNSName: dns }] };
  });
  const balancerByArn = (arn?: string) => [...balancers.values()].find((b) => b.arn === arn)!;
  on(elb, DescribeLoadBalancerAttributesCommand, ({ LoadBalancerArn }) => ({
    Attributes: [...balancerByArn(LoadBalancerArn).attributes].map(([Key, Value]) => ({ Key, Value })),
  }));
  on(elb, ModifyLoadBalancerAttributesCommand, ({ LoadBalancerArn, Attributes = [] }) => {
    for (const a of Attributes) balancerByArn(LoadBalancerArn).attributes.set(a.Key!, a.Value!);
    return {};
  });
  on(elb, DescribeListenersCommand, ({ LoadBalancerArn }) => ({ Listeners: balancerByArn(LoadBalancerArn).listeners }));
  on(elb, CreateListenerCommand, (input) => {
    balancerByArn(input.LoadBalancerArn).listeners.push({ ...input, ListenerArn: 'listener-1' } as Listener);
    return {};
  });
  on(elb, DeleteLoadBalancerCommand, ({ LoadBalancerArn }) => {
    const [name] = [...balancers.entries()].find(([, b]) => b.arn === LoadBalancerArn)!;
    lingering.set(name, 2);
    return {};
  });

  on(autoscaling, DescribeAutoScalingGroupsCommand, ({ AutoScalingGroupNames = [] }) => ({
    AutoScalingGroups: AutoScalingGroupNames.flatMap((n) => (groups.has(n) ? [groups.get(n)!] : [])),
  }));
  on(autoscaling, CreateAutoScalingGroupCommand, (input) => {
    groups.set(input.AutoScalingGroupName!, { ...input, Instances: [] } as unknown as AutoScalingGroup);
    return {};
  });
  on(autoscaling, UpdateAutoScalingGroupCommand, (input) => {
    Object.assign(groups.get(input.AutoScalingGroupName!)!, input);
    return {};
  });
  on(autoscaling, AttachLoadBalancerTargetGroupsCommand, (input) => {
    const g = groups.get(input.AutoScalingGroupName!)!;
    g.TargetGroupARNs = [...(g.TargetGroupARNs ?? []), ...(input.TargetGroupARNs ?? [])];
    return {};
  });
  on(autoscaling, DeleteAutoScalingGroupCommand, ({ AutoScalingGroupName }) => {
    if (!groups.delete(AutoScalingGroupName!))
      throw awsError('ValidationError', 400, 'AutoScalingGroup name not found');
    return {};
  });
  on(autoscaling, DescribeLifecycleHooksCommand, () => ({ LifecycleHooks: [] }));
  on(autoscaling, DescribeWarmPoolCommand, () => ({}));
  on(autoscaling, DescribePoliciesCommand, ({ PolicyNames = [] }) => ({
    ScalingPolicies: PolicyNames.flatMap((n) => (policies.has(n) ? [policies.get(n)!] : [])),
  }));
  on(autoscaling, PutScalingPolicyCommand, (input) => {
    policies.set(input.PolicyName!, input as ScalingPolicy);
    return {};
  });

  return {
    log,
    targetGroups,
    balancers,
    groups,
    policies,
    mocks: { elb, autoscaling },
    clients: {
      elb: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
      autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
    },
  };
}
