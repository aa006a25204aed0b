/**
 * The app tier's Auto Scaling group (`npm run aws:provision -- --group`), for FLEET_DRIVER=asg: from the
 * launch template, 0 to MAX_WORKERS instances over the given subnets, desired capacity left to the autoscaler;
 * its instances tagged `Name=app-tier-instance` (the driver numbers them) and with the fleet tag; a termination
 * lifecycle hook that holds a terminating instance until its workers have drained; and, with `--warm-pool N`,
 * a pool of N stopped instances that the group wakes instead of launching, and that takes instances back on
 * scale-in. What exists is compared with what is wanted (pure functions below) and only differences change.
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
import { FLEET_TAG, INSTANCE_NAME_PREFIX } from '../autoscaler/ec2-fleet.js';
import type { Session } from './session.js';
import { alreadyGone, orMissing } from './session.js';

export interface GroupSpec {
  readonly name: string;
  readonly launchTemplateId: string;
  /** Subnet ids the group spreads over (one per availability zone). */
  readonly subnetIds: readonly string[];
  readonly maxSize: number;
  readonly prefix: string;
  readonly hookName: string;
  /** The launch hook: the instance waits (up to LAUNCH_HOOK_SECONDS) for its workers to say they are ready. */
  readonly launchHookName?: string;
  /** How long a terminating instance may take to drain before the group goes on anyway, in seconds. */
  readonly drainSeconds: number;
  /** Stopped instances kept ready; 0: no warm pool. */
  readonly warmPoolSize: number;
}

export interface GroupStep {
  readonly autoscaling: AutoScalingClient;
  readonly session: Session;
}

/** The group's settings that provisioning owns (the desired capacity is the autoscaler's). */
export function groupSettings(g: GroupSpec) {
  return {
    AutoScalingGroupName: g.name,
    LaunchTemplate: { LaunchTemplateId: g.launchTemplateId, Version: '$Default' },
    MinSize: 0,
    MaxSize: g.maxSize,
    VPCZoneIdentifier: [...g.subnetIds].sort().join(','),
    // Its workers say when the instance is busy; a new instance holds nothing yet.
    NewInstancesProtectedFromScaleIn: false,
  };
}

/** The settings of an existing group that differ from what is wanted; empty when none does. */
export function groupDifferences(current: AutoScalingGroup, g: GroupSpec): string[] {
  const want = groupSettings(g);
  const diffs: string[] = [];
  if (current.LaunchTemplate?.LaunchTemplateId !== want.LaunchTemplate.LaunchTemplateId) diffs.push('launch template');
  if (current.LaunchTemplate?.Version !== want.LaunchTemplate.Version) diffs.push('launch template version');
  if (current.MinSize !== want.MinSize) diffs.push('minimum size');
  if (current.MaxSize !== want.MaxSize) diffs.push('maximum size');
  const subnets = (current.VPCZoneIdentifier ?? '').split(',').filter(Boolean).sort().join(',');
  if (subnets !== want.VPCZoneIdentifier) diffs.push('subnets');
  if (current.NewInstancesProtectedFromScaleIn !== want.NewInstancesProtectedFromScaleIn)
    diffs.push('new-instance protection');
  return diffs;
}

/** The termination hook: the instance waits (up to `drainSeconds`) for its workers to complete it. */
export function hookSettings(g: GroupSpec) {
  return {
    AutoScalingGroupName: g.name,
    LifecycleHookName: g.hookName,
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    HeartbeatTimeout: g.drainSeconds,
    // A worker that cannot complete it (crashed, no network) must not keep the instance for ever.
    DefaultResult: 'CONTINUE',
  };
}

/**
 * How long a launching instance may take to have ready workers (boot, user data, models loaded and warmed, the
 * gallery read), in seconds: then the group abandons it and launches another.
 */
export const LAUNCH_HOOK_SECONDS = 900;

/**
 * The launch hook. A new instance, or one started from the warm pool, waits in Pending:Wait (Warmed:Pending:Wait
 * on its way into the pool) until its workers are ready and complete it. Without it, an instance counted as
 * capacity (InService) could have no worker at all: a warm-pool instance stopped before its user data finished,
 * or a worker that never gets ready (EC2 health checks see only the machine). ABANDON when nobody completes it:
 * the group terminates it and launches another ("Amazon EC2 Auto Scaling lifecycle hooks", User Guide).
 */
export function launchHookSettings(g: GroupSpec & { launchHookName: string }) {
  return {
    AutoScalingGroupName: g.name,
    LifecycleHookName: g.launchHookName,
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
    HeartbeatTimeout: LAUNCH_HOOK_SECONDS,
    DefaultResult: 'ABANDON',
  };
}

export function sameHook(
  current: LifecycleHook | undefined,
  want: Pick<LifecycleHook, 'LifecycleTransition' | 'HeartbeatTimeout' | 'DefaultResult'>,
): boolean {
  return (
    current !== undefined &&
    current.LifecycleTransition === want.LifecycleTransition &&
    current.HeartbeatTimeout === want.HeartbeatTimeout &&
    current.DefaultResult === want.DefaultResult
  );
}

export function warmPoolSettings(g: GroupSpec) {
  return {
    AutoScalingGroupName: g.name,
    MinSize: g.warmPoolSize,
    // Equal to MinSize, the pool's size is absolute: left at MaxSize, the pool holds MaxSize minus the desired
    // capacity, so --warm-pool 4 prepared about 19 instances (PutWarmPool API reference).
    MaxGroupPreparedCapacity: g.warmPoolSize,
    PoolState: 'Stopped' as const,
    // Instances the group scales in go back to the pool, stopped, instead of being terminated.
    InstanceReusePolicy: { ReuseOnScaleIn: true },
  };
}

export function sameWarmPool(current: WarmPoolConfiguration | undefined, g: GroupSpec): boolean {
  const want = warmPoolSettings(g);
  return (
    current?.MinSize === want.MinSize &&
    current.MaxGroupPreparedCapacity === want.MaxGroupPreparedCapacity &&
    current.PoolState === want.PoolState &&
    current.InstanceReusePolicy?.ReuseOnScaleIn === true
  );
}

export async function ensureAutoScalingGroup({ autoscaling, session }: GroupStep, g: GroupSpec): Promise<void> {
  const step = `Auto Scaling group ${g.name}`;
  const { AutoScalingGroups = [] } = await session.read(
    step,
    autoscaling,
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [g.name] }),
  );
  const current = AutoScalingGroups.find((a) => a.Status !== 'Delete in progress');
  if (!current) {
    await session.change(
      step,
      autoscaling,
      new CreateAutoScalingGroupCommand({
        ...groupSettings(g),
        DesiredCapacity: 0,
        Tags: [
          { Key: 'Name', Value: INSTANCE_NAME_PREFIX.replace(/-$/, ''), PropagateAtLaunch: true },
          { Key: FLEET_TAG, Value: g.prefix, PropagateAtLaunch: true },
        ],
      }),
    );
    session.report(step, 'created', `0 to ${g.maxSize} instances over ${g.subnetIds.length} subnet(s)`);
  } else {
    const diffs = groupDifferences(current, g);
    if (diffs.length === 0) session.report(step, 'unchanged');
    else {
      await session.change(step, autoscaling, new UpdateAutoScalingGroupCommand(groupSettings(g)));
      session.report(step, 'updated', diffs.join(', '));
    }
  }
  await suspendRebalancing({ autoscaling, session }, g, current);
  await ensureHook({ autoscaling, session }, hookSettings(g), `drain for up to ${g.drainSeconds} s`);
  if (g.launchHookName) {
    await ensureHook(
      { autoscaling, session },
      launchHookSettings({ ...g, launchHookName: g.launchHookName }),
      `in service once its workers are ready (up to ${LAUNCH_HOOK_SECONDS} s)`,
    );
  }
  await ensureWarmPool({ autoscaling, session }, g);
}

/**
 * The processes of the group that stay suspended: AZRebalance. Rebalancing across zones launches before it
 * terminates, so the group can exceed MaxSize by 10 % or one instance, and it terminates instances the policy did
 * not choose, busy ones included (User Guide, "Rebalancing activities"). Our policy chooses which instances go.
 */
export const SUSPENDED_PROCESSES = ['AZRebalance'] as const;

async function suspendRebalancing(
  { autoscaling, session }: GroupStep,
  g: GroupSpec,
  current: AutoScalingGroup | undefined,
): Promise<void> {
  const step = `processes of ${g.name}`;
  const suspended = new Set((current?.SuspendedProcesses ?? []).map((p) => p.ProcessName));
  if (SUSPENDED_PROCESSES.every((p) => suspended.has(p))) {
    session.report(step, 'unchanged', `${SUSPENDED_PROCESSES.join(', ')} suspended`);
    return;
  }
  await session.change(
    step,
    autoscaling,
    new SuspendProcessesCommand({ AutoScalingGroupName: g.name, ScalingProcesses: [...SUSPENDED_PROCESSES] }),
  );
  session.report(step, 'updated', `${SUSPENDED_PROCESSES.join(', ')} suspended (our policy picks what goes)`);
}

/** A lifecycle hook as `want` has it: put when it is missing or differs. */
async function ensureHook(
  { autoscaling, session }: GroupStep,
  want: ReturnType<typeof hookSettings>,
  what: string,
): Promise<void> {
  const step = `lifecycle hook ${want.LifecycleHookName}`;
  const found = await session
    .read(
      step,
      autoscaling,
      new DescribeLifecycleHooksCommand({
        AutoScalingGroupName: want.AutoScalingGroupName,
        LifecycleHookNames: [want.LifecycleHookName],
      }),
    )
    .catch(orMissing);
  const current = found?.LifecycleHooks?.[0];
  if (sameHook(current, want)) {
    session.report(step, 'unchanged');
    return;
  }
  await session.change(step, autoscaling, new PutLifecycleHookCommand(want));
  session.report(step, current ? 'updated' : 'created', what);
}

async function ensureWarmPool({ autoscaling, session }: GroupStep, g: GroupSpec): Promise<void> {
  const step = `warm pool of ${g.name}`;
  const found = await session
    .read(step, autoscaling, new DescribeWarmPoolCommand({ AutoScalingGroupName: g.name }))
    .catch(orMissing);
  const current = found?.WarmPoolConfiguration;
  if (g.warmPoolSize === 0) {
    if (!current || current.Status === 'PendingDelete') session.report(step, 'unchanged', 'none');
    else {
      await session.change(
        step,
        autoscaling,
        new DeleteWarmPoolCommand({ AutoScalingGroupName: g.name, ForceDelete: true }),
      );
      session.report(step, 'updated', 'removed (no --warm-pool)');
    }
    return;
  }
  if (sameWarmPool(current, g)) {
    session.report(step, 'unchanged', `${g.warmPoolSize} stopped`);
    return;
  }
  await session.change(step, autoscaling, new PutWarmPoolCommand(warmPoolSettings(g)));
  session.report(step, current ? 'updated' : 'created', `${g.warmPoolSize} stopped instances, reused on scale-in`);
}

/** Deletes the group with its instances, warm pool and hook (ForceDelete); safe to run when it is gone. */
export async function deleteAutoScalingGroup({ autoscaling, session }: GroupStep, name: string): Promise<void> {
  const step = `Auto Scaling group ${name}`;
  const { AutoScalingGroups = [] } = await session.read(
    step,
    autoscaling,
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  if (AutoScalingGroups.length === 0 || AutoScalingGroups[0]!.Status === 'Delete in progress') {
    session.report(step, 'already gone');
    return;
  }
  const gone = await alreadyGone(() =>
    session.change(
      step,
      autoscaling,
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }),
    ),
  );
  session.report(step, gone ? 'already gone' : 'deleted', 'with its instances, warm pool and lifecycle hook');
}
