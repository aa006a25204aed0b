/**
 * A fake EC2 Auto Scaling group that keeps AWS's timing and rules, for tests and `npm run simulate:aws`. Every
 * rule it follows is in FAKE_GROUP_RULES with the AWS page it comes from; its clock is the caller's, so a run of
 * minutes takes milliseconds.
 *
 * It is reached through aws-sdk-client-mock, not through a server the SDK talks to. The code under test (the
 * real asg-fleet.ts, controller.ts and instance-lifecycle.ts) sends real SDK commands to real clients, and the
 * mock answers them from this model. A server would also exercise the SDK's serialisation. But Auto Scaling
 * speaks AWS's query protocol, with XML answers, so it would be mostly a serialiser of our own. That code would
 * be the least like AWS, and it would not make the timing and rules, which this issue is about, any truer.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeWarmPoolCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';

const GUIDE = 'https://docs.aws.amazon.com/autoscaling/ec2/userguide';
const API = 'https://docs.aws.amazon.com/autoscaling/ec2/APIReference';

/** The rules the fake follows, each with where AWS says so. */
export const FAKE_GROUP_RULES = {
  launchTakesTime: {
    rule: 'after the desired capacity rises, a scaling activity starts within seconds and the instance stays Pending until it has booted; it is listed in the group only once the activity has started',
    cite: `${GUIDE}/ec2-auto-scaling-scaling-manually.html (Manual scaling: "it can take a few minutes"), ${GUIDE}/ec2-auto-scaling-lifecycle.html`,
  },
  desiredWithinMinMax: {
    rule: 'SetDesiredCapacity above MaxSize (or below MinSize) is refused with a ValidationError',
    cite: `${API}/API_SetDesiredCapacity.html`,
  },
  scaleInSkipsProtected: {
    rule: 'when the desired capacity falls, the group terminates only instances not protected from scale-in; with every instance protected it terminates none and stays above the desired capacity',
    cite: `${GUIDE}/ec2-auto-scaling-instance-protection.html`,
  },
  protectionNotInWarmPool: {
    rule: 'scale-in protection cannot be set on an instance in the warm pool',
    cite: `${GUIDE}/ec2-auto-scaling-warm-pools.html (Limitations)`,
  },
  terminateIgnoresProtection: {
    rule: 'TerminateInstanceInAutoScalingGroup terminates the instance it names, protected or not; with ShouldDecrementDesiredCapacity it lowers the desired capacity by one',
    cite: `${API}/API_TerminateInstanceInAutoScalingGroup.html, ${GUIDE}/ec2-auto-scaling-instance-protection.html`,
  },
  terminatingHookWaits: {
    rule: 'a termination lifecycle hook holds the instance in Terminating:Wait until CompleteLifecycleAction, or until its heartbeat timeout passes (then its default result); RecordLifecycleActionHeartbeat restarts the timeout',
    cite: `${GUIDE}/lifecycle-hooks.html, ${API}/API_RecordLifecycleActionHeartbeat.html`,
  },
  launchHookWaits: {
    rule: 'a launch lifecycle hook holds a booted instance in Pending:Wait (Warmed:Pending:Wait on its way into the warm pool) until CompleteLifecycleAction; at its timeout the default result ABANDON terminates it, and the group launches another',
    cite: `${GUIDE}/lifecycle-hooks.html, ${GUIDE}/warm-pool-instance-lifecycle.html`,
  },
  completeWithoutAction: {
    rule: 'CompleteLifecycleAction for an instance with no action waiting, or for a hook that does not exist, is a ValidationError',
    cite: `${API}/API_CompleteLifecycleAction.html`,
  },
  warmPoolSize: {
    rule: 'the warm pool holds MaxGroupPreparedCapacity (MaxSize when unset) minus the desired capacity, and at least its MinSize; it has a fixed size only when MaxGroupPreparedCapacity equals its MinSize',
    cite: `${API}/API_PutWarmPool.html`,
  },
  warmPoolStates: {
    rule: 'an instance launched into the pool is Warmed:Pending, then Warmed:Stopped; a scale-out takes pooled instances first (Pending again, faster than a new launch); with ReuseOnScaleIn a scaled-in instance goes to Warmed:Pending:Wait (the hooks apply), target Warmed:Stopped, not Terminated',
    cite: `${GUIDE}/warm-pool-instance-lifecycle.html, ${GUIDE}/warm-pool-instance-reuse-policy.html`,
  },
  targetStateInMetadata: {
    rule: 'an instance reads its target lifecycle state at meta-data/autoscaling/target-lifecycle-state (InService, Terminated, Warmed:Stopped, …)',
    cite: `${GUIDE}/retrieving-target-lifecycle-state-through-imds.html`,
  },
  describeInstancesEventuallyConsistent: {
    rule: 'DescribeInstances or CreateTags naming an instance launched moments ago can fail with InvalidInstanceID.NotFound; a filter on instance-id returns what is known without failing',
    cite: 'https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html',
  },
} as const;

export interface FakeGroupOptions {
  readonly name: string;
  readonly maxSize: number;
  readonly minSize?: number;
  /** The group's clock, in milliseconds. */
  readonly now: () => number;
  /** Seconds an instance is Pending before InService (a new one); a function for a spread (30–60 s). */
  readonly launchSeconds: number | (() => number);
  /** Seconds from the desired capacity rising to the instance being listed (the activity starting). */
  readonly activityDelaySeconds?: number;
  /** Seconds a pooled (stopped) instance takes to be InService again. */
  readonly warmStartSeconds?: number;
  /** Seconds after launch during which EC2 does not know the instance yet. */
  readonly consistencySeconds?: number;
  readonly hook?: { readonly name: string; readonly heartbeatTimeoutSeconds: number };
  /** The launch hook (ABANDON at its timeout). */
  readonly launchHook?: { readonly name: string; readonly heartbeatTimeoutSeconds: number };
  readonly warmPool?: {
    readonly minSize: number;
    readonly maxGroupPreparedCapacity?: number;
    readonly reuseOnScaleIn: boolean;
  };
  /** Whether an instance's workers hold messages now (the simulation knows): counts busy terminations. */
  readonly isBusy?: (instanceId: string) => boolean;
}

interface FakeInstance {
  readonly id: string;
  state: string;
  protectedFromScaleIn: boolean;
  readonly launchedAt: number;
  /** When the activity that made it started: before then it is not listed. */
  listedAt: number;
  /** When its current Pending (or Warmed:Pending) ends. */
  readyAt: number;
  /** Terminating:Wait or Warmed:Pending:Wait: when the hook's timeout passes. */
  hookDeadline?: number;
  /** Pending:Wait or Warmed:Pending:Wait under the launch hook: when its timeout passes (ABANDON). */
  launchDeadline?: number;
  /** Where the hook's wait leads: Terminated, or back to the pool. */
  target?: 'Terminated' | 'Warmed:Stopped';
  name?: string;
}

export class FakeAutoScalingGroup {
  desired = 0;
  readonly instances = new Map<string, FakeInstance>();
  /** What happened, for a reader: [time, what]. */
  readonly events: [number, string][] = [];
  peakInstances = 0;
  busyTerminated = 0;
  private nextId = 1;
  private readonly options: Required<Omit<FakeGroupOptions, 'hook' | 'launchHook' | 'warmPool' | 'isBusy'>> &
    Pick<FakeGroupOptions, 'hook' | 'launchHook' | 'warmPool' | 'isBusy'>;

  constructor(options: FakeGroupOptions) {
    this.options = {
      minSize: 0,
      activityDelaySeconds: 10,
      warmStartSeconds: 15,
      consistencySeconds: 5,
      ...options,
    };
    this.advance();
  }

  /** Answers the SDK clients' commands from this group (aws-sdk-client-mock); returns the mocks. */
  attach(): { autoscaling: ReturnType<typeof mockClient>; ec2: ReturnType<typeof mockClient> } {
    const autoscaling = mockClient(AutoScalingClient);
    const ec2 = mockClient(EC2Client);
    const run = <T>(f: () => T) => {
      this.advance();
      const out = f();
      this.advance();
      return out;
    };
    autoscaling.on(DescribeAutoScalingGroupsCommand).callsFake(() => run(() => this.describeGroup()));
    autoscaling.on(DescribeWarmPoolCommand).callsFake(() => run(() => this.describeWarmPool()));
    autoscaling.on(SetDesiredCapacityCommand).callsFake((input) => run(() => this.setDesired(input.DesiredCapacity)));
    autoscaling
      .on(SetInstanceProtectionCommand)
      .callsFake((input) => run(() => this.protect(input.InstanceIds ?? [], input.ProtectedFromScaleIn === true)));
    autoscaling
      .on(TerminateInstanceInAutoScalingGroupCommand)
      .callsFake((input) => run(() => this.terminate(input.InstanceId, input.ShouldDecrementDesiredCapacity === true)));
    autoscaling
      .on(CompleteLifecycleActionCommand)
      .callsFake((input) => run(() => this.complete(input.LifecycleHookName, input.InstanceId)));
    autoscaling
      .on(RecordLifecycleActionHeartbeatCommand)
      .callsFake((input) => run(() => this.heartbeat(input.LifecycleHookName, input.InstanceId)));
    ec2.on(DescribeInstancesCommand).callsFake((input) => run(() => this.describeInstances(input)));
    ec2.on(CreateTagsCommand).callsFake((input) => run(() => this.createTags(input)));
    return { autoscaling, ec2 };
  }

  /** The instance's target lifecycle state, as its metadata says (FAKE_GROUP_RULES.targetStateInMetadata). */
  targetLifecycleState(id: string): string | undefined {
    const i = this.instances.get(id);
    if (!i) return 'Terminated';
    if (i.target) return i.target;
    return i.state.startsWith('Warmed') ? 'Warmed:Stopped' : 'InService';
  }

  /** Instances in the group, not in the pool: what counts against MaxSize and the desired capacity. */
  inGroup(): FakeInstance[] {
    return [...this.instances.values()].filter((i) => !i.state.startsWith('Warmed'));
  }

  inPool(): FakeInstance[] {
    return [...this.instances.values()].filter((i) => i.state.startsWith('Warmed'));
  }

  /** Moves every instance on to where the clock says it is, and reconciles with the desired capacity. */
  advance(): void {
    const now = this.options.now();
    for (const i of [...this.instances.values()]) {
      if ((i.state === 'Pending' || i.state === 'Warmed:Pending') && now >= i.readyAt) this.booted(i, now);
      if (i.launchDeadline !== undefined && now >= i.launchDeadline) {
        // FAKE_GROUP_RULES.launchHookWaits: ABANDON.
        this.instances.delete(i.id);
        this.events.push([now, `${i.id} terminated (launch hook timed out: abandoned)`]);
        continue;
      }
      if (i.hookDeadline !== undefined && now >= i.hookDeadline) this.finishHook(i, 'timeout');
    }
    this.reconcile(now);
    this.peakInstances = Math.max(this.peakInstances, this.inGroup().length);
  }

  /** A boot finished: into service (or the pool), or first into the launch hook's wait. */
  private booted(i: FakeInstance, now: number): void {
    const intoPool = i.state === 'Warmed:Pending';
    if (this.options.launchHook) {
      i.launchDeadline = now + this.options.launchHook.heartbeatTimeoutSeconds * 1000;
      this.move(i, intoPool ? 'Warmed:Pending:Wait' : 'Pending:Wait');
    } else this.move(i, intoPool ? 'Warmed:Stopped' : 'InService');
  }

  private reconcile(now: number): void {
    const active = this.inGroup().filter((i) => i.target === undefined);
    if (active.length < this.desired) {
      for (let n = active.length; n < this.desired; n++) {
        const pooled = this.inPool().find((i) => i.state === 'Warmed:Stopped');
        if (pooled) {
          pooled.readyAt = now + this.options.warmStartSeconds * 1000;
          this.move(pooled, 'Pending');
        } else this.launch(now, 'Pending');
      }
    } else if (active.length > this.desired) {
      // FAKE_GROUP_RULES.scaleInSkipsProtected: the default termination policy, among unprotected instances.
      const candidates = active.filter((i) => !i.protectedFromScaleIn).sort((a, b) => a.launchedAt - b.launchedAt);
      for (const i of candidates.slice(0, active.length - this.desired)) this.startLeaving(i, now);
    }
    const pool = this.options.warmPool;
    if (pool) {
      // FAKE_GROUP_RULES.warmPoolSize
      const prepared = pool.maxGroupPreparedCapacity ?? this.options.maxSize;
      const size = Math.max(pool.minSize, prepared - this.desired);
      const inPool = this.inPool().filter((i) => i.target === undefined);
      for (let n = inPool.length; n < size; n++) this.launch(now, 'Warmed:Pending');
      for (const i of inPool.filter((p) => p.state === 'Warmed:Stopped').slice(0, Math.max(0, inPool.length - size))) {
        this.instances.delete(i.id);
        this.events.push([now, `${i.id} terminated from the warm pool (surplus)`]);
      }
    }
  }

  private launch(now: number, state: 'Pending' | 'Warmed:Pending'): void {
    const id = `i-${String(this.nextId++).padStart(17, '0')}`;
    const seconds =
      typeof this.options.launchSeconds === 'function' ? this.options.launchSeconds() : this.options.launchSeconds;
    const listedAt = now + this.options.activityDelaySeconds * 1000;
    this.instances.set(id, {
      id,
      state,
      protectedFromScaleIn: false,
      launchedAt: listedAt,
      listedAt,
      readyAt: listedAt + seconds * 1000,
    });
    this.events.push([now, `${id} launched (${state})`]);
  }

  /** Scale-in of an instance: through the termination hook, to Terminated or back to the pool. */
  private startLeaving(i: FakeInstance, now: number): void {
    if (this.options.isBusy?.(i.id)) this.busyTerminated++;
    i.launchDeadline = undefined;
    const reuse = this.options.warmPool?.reuseOnScaleIn === true;
    i.target = reuse ? 'Warmed:Stopped' : 'Terminated';
    if (this.options.hook) {
      i.hookDeadline = now + this.options.hook.heartbeatTimeoutSeconds * 1000;
      this.move(i, reuse ? 'Warmed:Pending:Wait' : 'Terminating:Wait');
    } else this.finishHook(i, 'no hook');
  }

  private finishHook(i: FakeInstance, why: string): void {
    const now = this.options.now();
    i.hookDeadline = undefined;
    if (i.target === 'Warmed:Stopped') {
      i.target = undefined;
      i.protectedFromScaleIn = false;
      this.move(i, 'Warmed:Stopped', why);
    } else {
      this.instances.delete(i.id);
      this.events.push([now, `${i.id} terminated (${why})`]);
    }
  }

  private move(i: FakeInstance, state: string, why?: string): void {
    i.state = state;
    this.events.push([this.options.now(), `${i.id} ${state}${why ? ` (${why})` : ''}`]);
  }

  private listed(): FakeInstance[] {
    const now = this.options.now();
    return this.inGroup().filter((i) => i.listedAt <= now);
  }

  private describeGroup() {
    return {
      AutoScalingGroups: [
        {
          AutoScalingGroupName: this.options.name,
          MinSize: this.options.minSize,
          MaxSize: this.options.maxSize,
          DesiredCapacity: this.desired,
          Instances: this.listed().map((i) => ({
            InstanceId: i.id,
            LifecycleState: i.state,
            ProtectedFromScaleIn: i.protectedFromScaleIn,
            HealthStatus: 'Healthy',
          })),
        },
      ],
    };
  }

  private describeWarmPool() {
    const now = this.options.now();
    return {
      Instances: this.inPool()
        .filter((i) => i.listedAt <= now)
        .map((i) => ({ InstanceId: i.id, LifecycleState: i.state })),
    };
  }

  private setDesired(desired: number | undefined): object {
    const d = desired ?? 0;
    // FAKE_GROUP_RULES.desiredWithinMinMax
    if (d > this.options.maxSize) {
      throw validation(
        `New SetDesiredCapacity value ${d} is above max value ${this.options.maxSize} for the AutoScalingGroup.`,
      );
    }
    if (d < this.options.minSize) {
      throw validation(
        `New SetDesiredCapacity value ${d} is below min value ${this.options.minSize} for the AutoScalingGroup.`,
      );
    }
    this.events.push([this.options.now(), `desired ${this.desired} → ${d}`]);
    this.desired = d;
    return {};
  }

  private protect(ids: readonly string[], on: boolean): object {
    for (const id of ids) {
      const i = this.instances.get(id);
      if (!i) throw validation(`The instance ${id} is not part of Auto Scaling group ${this.options.name}.`);
      // FAKE_GROUP_RULES.protectionNotInWarmPool
      if (i.state.startsWith('Warmed'))
        throw validation(`The instance ${id} is in the warm pool; instance protection is not supported.`);
      i.protectedFromScaleIn = on;
    }
    return {};
  }

  private terminate(id: string | undefined, decrement: boolean): object {
    const i = id ? this.instances.get(id) : undefined;
    if (!i || i.state.startsWith('Warmed') || i.target) {
      throw validation(
        `The instance ${id} is not part of Auto Scaling group ${this.options.name} or is already leaving it.`,
      );
    }
    // FAKE_GROUP_RULES.terminateIgnoresProtection
    if (decrement) {
      if (this.desired - 1 < this.options.minSize) throw validation('Currently, desiredSize equals minSize.');
      this.desired--;
    }
    this.startLeaving(i, this.options.now());
    return { Activity: { ActivityId: `terminate-${i.id}`, StatusCode: 'InProgress' } };
  }

  private waiting(hookName: string | undefined, id: string | undefined): FakeInstance {
    // FAKE_GROUP_RULES.completeWithoutAction
    if (!this.options.hook || hookName !== this.options.hook.name) {
      throw validation(`No Lifecycle Hook found for ${hookName ?? 'undefined'} on ${this.options.name}`);
    }
    const i = id ? this.instances.get(id) : undefined;
    if (!i || i.hookDeadline === undefined) throw validation(`No active Lifecycle Action found with instance ID ${id}`);
    return i;
  }

  private complete(hookName: string | undefined, id: string | undefined): object {
    const launch = this.options.launchHook;
    if (launch && hookName === launch.name) {
      const i = id ? this.instances.get(id) : undefined;
      if (!i || i.launchDeadline === undefined)
        throw validation(`No active Lifecycle Action found with instance ID ${id}`);
      i.launchDeadline = undefined;
      this.move(i, i.state === 'Warmed:Pending:Wait' ? 'Warmed:Stopped' : 'InService', 'launch completed');
      return {};
    }
    this.finishHook(this.waiting(hookName, id), 'lifecycle action completed');
    return {};
  }

  private heartbeat(hookName: string | undefined, id: string | undefined): object {
    const i = this.waiting(hookName, id);
    i.hookDeadline = this.options.now() + this.options.hook!.heartbeatTimeoutSeconds * 1000;
    return {};
  }

  /** FAKE_GROUP_RULES.describeInstancesEventuallyConsistent */
  private known(id: string): FakeInstance | undefined {
    const i = this.instances.get(id);
    return i && this.options.now() >= i.launchedAt + this.options.consistencySeconds * 1000 ? i : undefined;
  }

  private describeInstances(input: { InstanceIds?: string[]; Filters?: { Name?: string; Values?: string[] }[] }) {
    const byFilter = input.Filters?.find((f) => f.Name === 'instance-id')?.Values;
    const ids = input.InstanceIds ?? byFilter ?? [];
    const unknown = ids.filter((id) => !this.known(id));
    if (input.InstanceIds && unknown.length > 0) throw notFound(unknown);
    const found = ids.flatMap((id) => {
      const i = this.known(id);
      return i ? [{ InstanceId: i.id, Tags: i.name ? [{ Key: 'Name', Value: i.name }] : [] }] : [];
    });
    return { Reservations: found.length > 0 ? [{ Instances: found }] : [] };
  }

  private createTags(input: { Resources?: string[]; Tags?: { Key?: string; Value?: string }[] }): object {
    const unknown = (input.Resources ?? []).filter((id) => !this.known(id));
    if (unknown.length > 0) throw notFound(unknown);
    const name = input.Tags?.find((t) => t.Key === 'Name')?.Value;
    for (const id of input.Resources ?? []) if (name) this.instances.get(id)!.name = name;
    return {};
  }
}

function validation(message: string): Error {
  return Object.assign(new Error(message), { name: 'ValidationError', $metadata: { httpStatusCode: 400 } });
}

function notFound(ids: readonly string[]): Error {
  const message =
    ids.length === 1
      ? `The instance ID '${ids[0]}' does not exist`
      : `The instance IDs '${ids.join(', ')}' do not exist`;
  return Object.assign(new Error(message), { name: 'InvalidInstanceID.NotFound', $metadata: { httpStatusCode: 400 } });
}
