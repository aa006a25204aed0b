/**
 * Provisioning the app tier's Auto Scaling group, its termination hook and warm pool against a small stateful
 * fake of Auto Scaling (aws-sdk-client-mock): the exact inputs, what differs and what does not, provisioning
 * twice changes nothing, a dry run changes nothing, teardown twice finds it gone.
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DeleteWarmPoolCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  DescribeWarmPoolCommand,
  PutLifecycleHookCommand,
  PutWarmPoolCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
  type LifecycleHook,
  type WarmPoolConfiguration,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  deleteAutoScalingGroup,
  ensureAutoScalingGroup,
  groupDifferences,
  type GroupSpec,
} from '../../src/deploy/auto-scaling-group.js';
import { Session } from '../../src/deploy/session.js';

const asMock = mockClient(AutoScalingClient);
const spec: GroupSpec = {
  name: 'asu1234-app-tier',
  launchTemplateId: 'lt-0123',
  subnetIds: ['subnet-b', 'subnet-a'],
  maxSize: 19,
  prefix: 'asu1234',
  hookName: 'asu1234-drain',
  drainSeconds: 60,
  warmPoolSize: 0,
};

/** An account with at most one group, kept between calls as Auto Scaling keeps it. */
function account() {
  let group: AutoScalingGroup | undefined;
  let hook: LifecycleHook | undefined;
  let pool: WarmPoolConfiguration | undefined;
  asMock.on(DescribeAutoScalingGroupsCommand).callsFake(() => ({ AutoScalingGroups: group ? [group] : [] }));
  asMock.on(CreateAutoScalingGroupCommand).callsFake((input) => {
    group = { ...input, DesiredCapacity: input.DesiredCapacity, Instances: [] } as AutoScalingGroup;
    return {};
  });
  asMock.on(UpdateAutoScalingGroupCommand).callsFake((input) => {
    group = { ...group!, ...input } as AutoScalingGroup;
    return {};
  });
  asMock.on(SuspendProcessesCommand).callsFake((input) => {
    group = {
      ...group!,
      SuspendedProcesses: (input.ScalingProcesses ?? []).map((ProcessName: string) => ({ ProcessName })),
    } as AutoScalingGroup;
    return {};
  });
  asMock.on(DeleteAutoScalingGroupCommand).callsFake(() => {
    group = undefined;
    hook = undefined;
    pool = undefined;
    return {};
  });
  asMock.on(DescribeLifecycleHooksCommand).callsFake(() => ({ LifecycleHooks: hook ? [hook] : [] }));
  asMock.on(PutLifecycleHookCommand).callsFake((input) => {
    hook = input as LifecycleHook;
    return {};
  });
  asMock.on(DescribeWarmPoolCommand).callsFake(() => ({ WarmPoolConfiguration: pool }));
  asMock.on(PutWarmPoolCommand).callsFake((input) => {
    pool = { ...input, Status: undefined } as WarmPoolConfiguration;
    return {};
  });
  asMock.on(DeleteWarmPoolCommand).callsFake(() => {
    pool = undefined;
    return {};
  });
}

const changes = () =>
  asMock
    .calls()
    .map((c) => c.args[0].constructor.name.replace(/Command$/, ''))
    .filter((name) => !name.startsWith('Describe'));

async function run(g: GroupSpec, dryRun = false) {
  const lines: string[] = [];
  const session = new Session(dryRun, (l) => lines.push(l));
  await ensureAutoScalingGroup({ autoscaling: new AutoScalingClient({ region: 'us-east-1' }), session }, g);
  return { outcomes: session.reports.map((r) => `${r.step}: ${r.outcome}`), lines };
}

beforeEach(() => {
  asMock.reset();
  account();
});

describe('the app tier’s Auto Scaling group', () => {
  it('is created from the launch template, 0 to MAX_WORKERS over the subnets, its instances tagged, with the drain hook', async () => {
    const { outcomes } = await run(spec);
    expect(outcomes).toEqual([
      'Auto Scaling group asu1234-app-tier: created',
      'processes of asu1234-app-tier: updated',
      'lifecycle hook asu1234-drain: created',
      'warm pool of asu1234-app-tier: unchanged',
    ]);
    expect(asMock.commandCalls(CreateAutoScalingGroupCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'asu1234-app-tier',
      LaunchTemplate: { LaunchTemplateId: 'lt-0123', Version: '$Default' },
      MinSize: 0,
      MaxSize: 19,
      DesiredCapacity: 0,
      VPCZoneIdentifier: 'subnet-a,subnet-b',
      NewInstancesProtectedFromScaleIn: false,
      Tags: [
        { Key: 'Name', Value: 'app-tier-instance', PropagateAtLaunch: true },
        { Key: 'facefleet:fleet', Value: 'asu1234', PropagateAtLaunch: true },
      ],
    });
    expect(asMock.commandCalls(PutLifecycleHookCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'asu1234-app-tier',
      LifecycleHookName: 'asu1234-drain',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      HeartbeatTimeout: 60,
      DefaultResult: 'CONTINUE',
    });
    // Rebalancing across zones would launch past MaxSize and terminate instances our policy did not choose.
    expect(asMock.commandCalls(SuspendProcessesCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'asu1234-app-tier',
      ScalingProcesses: ['AZRebalance'],
    });
  });

  it('adds a launch hook: an instance is in service once its workers are ready, abandoned after 900 s', async () => {
    await run({ ...spec, launchHookName: 'asu1234-launch' });
    expect(asMock.commandCalls(PutLifecycleHookCommand).map((c) => c.args[0].input)).toContainEqual({
      AutoScalingGroupName: 'asu1234-app-tier',
      LifecycleHookName: 'asu1234-launch',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      HeartbeatTimeout: 900,
      DefaultResult: 'ABANDON',
    });
  });

  it('provisioned twice changes nothing the second time', async () => {
    await run({ ...spec, warmPoolSize: 4 });
    asMock.resetHistory();
    const { outcomes } = await run({ ...spec, warmPoolSize: 4 });
    expect(outcomes.every((o) => o.endsWith('unchanged'))).toBe(true);
    expect(changes()).toEqual([]);
  });

  it('adds, resizes and removes the warm pool of stopped instances, reused on scale-in', async () => {
    await run(spec);
    asMock.resetHistory();
    await run({ ...spec, warmPoolSize: 4 });
    expect(asMock.commandCalls(PutWarmPoolCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'asu1234-app-tier',
      MinSize: 4,
      // Equal to MinSize: a pool of 4, whatever the desired capacity (at 19 it held MaxSize − desired).
      MaxGroupPreparedCapacity: 4,
      PoolState: 'Stopped',
      InstanceReusePolicy: { ReuseOnScaleIn: true },
    });
    asMock.resetHistory();
    await run({ ...spec, warmPoolSize: 0 });
    expect(changes()).toEqual(['DeleteWarmPool']);
  });

  it('updates only what differs, and says what', async () => {
    await run(spec);
    asMock.resetHistory();
    const { outcomes } = await run({ ...spec, maxSize: 10, launchTemplateId: 'lt-0456' });
    expect(outcomes[0]).toBe('Auto Scaling group asu1234-app-tier: updated');
    expect(changes()).toEqual(['UpdateAutoScalingGroup']);
  });

  it.each([
    [{}, []],
    [{ MaxSize: 5 }, ['maximum size']],
    [{ VPCZoneIdentifier: 'subnet-b,subnet-a' }, []],
    [{ VPCZoneIdentifier: 'subnet-a' }, ['subnets']],
    [{ LaunchTemplate: { LaunchTemplateId: 'lt-0123', Version: '$Latest' } }, ['launch template version']],
    [{ NewInstancesProtectedFromScaleIn: true }, ['new-instance protection']],
  ])('compares an existing group: %j differs in %j', (change, expected) => {
    const current = {
      LaunchTemplate: { LaunchTemplateId: 'lt-0123', Version: '$Default' },
      MinSize: 0,
      MaxSize: 19,
      VPCZoneIdentifier: 'subnet-a,subnet-b',
      NewInstancesProtectedFromScaleIn: false,
      ...change,
    } as AutoScalingGroup;
    expect(groupDifferences(current, spec)).toEqual(expected);
  });

  it('changes nothing in a dry run, and says what it would do', async () => {
    const { lines } = await run(spec, true);
    expect(changes()).toEqual([]);
    expect(lines.join('\n')).toMatch(/would call autoscaling:CreateAutoScalingGroup/);
    expect(lines.join('\n')).toMatch(/would create\s+Auto Scaling group asu1234-app-tier/);
  });

  it('is deleted with its instances, and a second teardown finds it gone', async () => {
    await run(spec);
    const session = new Session(false, () => undefined);
    const step = { autoscaling: new AutoScalingClient({ region: 'us-east-1' }), session };
    await deleteAutoScalingGroup(step, 'asu1234-app-tier');
    await deleteAutoScalingGroup(step, 'asu1234-app-tier');
    expect(session.reports.map((r) => r.outcome)).toEqual(['deleted', 'already gone']);
    expect(asMock.commandCalls(DeleteAutoScalingGroupCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'asu1234-app-tier',
      ForceDelete: true,
    });
  });
});
