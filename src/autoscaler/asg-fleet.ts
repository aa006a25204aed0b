/**
 * The Auto Scaling group fleet driver: the greedy policy stays ours, the group does the launching, replacing
 * (health checks), spreading over zones and the warm pool. Scale-out raises the group's desired capacity. Scale-in
 * terminates exactly the instances the policy chose (idle ones), decrementing the desired capacity; the group's
 * termination lifecycle hook holds each in Terminating:Wait until its workers have drained and completed the
 * action (src/app-tier/instance-lifecycle.ts), and a warm pool takes it back stopped when the pool reuses
 * instances on scale-in.
 *
 * An instance's workers protect it from scale-in while they hold messages (SetInstanceProtection on their own
 * instance): that flag is the instance's busy signal here, so neither AWS nor the policy ever picks a busy one.
 * The group tags its instances `Name=app-tier-instance`; this driver gives each its number
 * (`app-tier-instance-<n>`, the lowest free one), as the course names them.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  type Instance as GroupInstance,
} from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { Logger } from '../shared/logger.js';
import { INSTANCE_NAME_PREFIX } from './ec2-fleet.js';
import { lowestFreeNumbers, type Fleet, type FleetWorker, type WorkerState } from './fleet.js';

export interface AsgFleetOptions {
  readonly autoscaling: AutoScalingClient;
  readonly ec2: EC2Client;
  /** The group's name (provisioning names it `<prefix>-app-tier`). */
  readonly groupName: string;
  readonly logger: Logger;
}

/** Group lifecycle states as worker states; warm-pool states (`Warmed:*`) are not workers. */
export function workerState(lifecycleState: string | undefined): WorkerState | undefined {
  const s = lifecycleState ?? '';
  if (s.startsWith('Warmed')) return undefined;
  if (s === 'InService') return 'running';
  if (s.startsWith('Pending')) return 'starting';
  if (s.startsWith('Terminating') || s.startsWith('Detach') || s.includes('Standby') || s === 'Quarantined')
    return 'stopping';
  return undefined;
}

export class AsgFleet implements Fleet {
  constructor(private readonly options: AsgFleetOptions) {}

  async list(): Promise<FleetWorker[]> {
    const group = await this.group();
    const members = (group.Instances ?? []).flatMap((i) => {
      const state = workerState(i.LifecycleState);
      return i.InstanceId && state ? [{ instance: i, state }] : [];
    });
    const numbers = await this.numbers(members.map((m) => m.instance));
    return members
      .map(({ instance, state }) => ({
        id: instance.InstanceId!,
        number: numbers.get(instance.InstanceId!) ?? 0,
        state,
        // A running instance's workers protect it while they hold messages: unprotected is idle.
        ...(state === 'running' ? { busy: instance.ProtectedFromScaleIn === true } : {}),
      }))
      .sort((a, b) => a.number - b.number);
  }

  /**
   * Sets the desired capacity to the instances the policy counted (Pending and InService) plus `count`; the group
   * launches (or wakes from the warm pool).
   *
   * Absolute, not `DesiredCapacity + count`: a group takes tens of seconds to start the activity that lists a new
   * instance (EC2 Auto Scaling User Guide, "Manual scaling"), and the controller decides every second. Adding
   * `count` to the desired capacity in each of those rounds climbed to MaxSize on the first burst, then failed
   * every round with desired > max. Counting what is listed, each round before the instances appear asks for the
   * same capacity again.
   */
  async launch(count: number): Promise<string[]> {
    const group = await this.group();
    const counted = (group.Instances ?? []).filter((i) => {
      const state = workerState(i.LifecycleState);
      return state === 'starting' || state === 'running';
    }).length;
    const desired = counted + count;
    const max = group.MaxSize ?? desired;
    if (desired > max)
      throw new Error(`the group ${this.options.groupName} allows ${max} instances; ${desired} asked for`);
    await this.options.autoscaling.send(
      new SetDesiredCapacityCommand({
        AutoScalingGroupName: this.options.groupName,
        DesiredCapacity: desired,
        // Our policy decides when; the group's cooldown would only delay a burst.
        HonorCooldown: false,
      }),
    );
    this.options.logger.info({ group: this.options.groupName, desired }, 'raised the group’s desired capacity');
    // The group picks the instances; they appear in the next listing.
    return [];
  }

  /** Terminates the chosen (idle) instances and lowers the desired capacity with them. */
  async stop(ids: readonly string[]): Promise<void> {
    const results = await Promise.allSettled(
      ids.map((InstanceId) =>
        this.options.autoscaling.send(
          new TerminateInstanceInAutoScalingGroupCommand({ InstanceId, ShouldDecrementDesiredCapacity: true }),
        ),
      ),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ id: ids[i], err: r.reason as Error }] : []));
    for (const f of failed)
      this.options.logger.warn(
        { instanceId: f.id, code: f.err.name, reason: f.err.message },
        'could not stop an instance',
      );
    if (failed.length === ids.length && failed.length > 0) throw failed[0]!.err;
    this.options.logger.info(
      { instanceIds: ids.filter((id) => !failed.some((f) => f.id === id)) },
      'stopping instances (the lifecycle hook lets their workers drain)',
    );
  }

  private async group() {
    const { AutoScalingGroups = [] } = await this.options.autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [this.options.groupName] }),
    );
    const group = AutoScalingGroups[0];
    if (!group) throw new Error(`there is no Auto Scaling group ${this.options.groupName}: run npm run aws:provision`);
    return group;
  }

  /** Each instance's number from its Name tag; instances the group named without one are given the lowest free. */
  private async numbers(instances: readonly GroupInstance[]): Promise<Map<string, number>> {
    const numbers = new Map<string, number>();
    const ids = instances.map((i) => i.InstanceId!);
    if (ids.length === 0) return numbers;
    // By filter, not by InstanceIds: EC2 is eventually consistent, and naming an instance launched moments ago fails
    // the whole call with InvalidInstanceID.NotFound (EC2 Developer Guide, "Eventual consistency"), which failed the
    // autoscaler's round in every scale-out. A filter returns what EC2 knows; the rest is named in a later round.
    const { Reservations = [] } = await this.options.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: ids }] }),
    );
    const unnamed: string[] = [];
    for (const instance of Reservations.flatMap((r) => r.Instances ?? [])) {
      const name = instance.Tags?.find((t) => t.Key === 'Name')?.Value ?? '';
      const n = name.startsWith(INSTANCE_NAME_PREFIX) ? Number(name.slice(INSTANCE_NAME_PREFIX.length)) : NaN;
      if (Number.isInteger(n) && n > 0) numbers.set(instance.InstanceId!, n);
      else unnamed.push(instance.InstanceId!);
    }
    const free = lowestFreeNumbers(numbers.values(), unnamed.length);
    await Promise.all(
      unnamed.map(async (id, i) => {
        try {
          await this.options.ec2.send(
            new CreateTagsCommand({
              Resources: [id],
              Tags: [{ Key: 'Name', Value: `${INSTANCE_NAME_PREFIX}${free[i]}` }],
            }),
          );
          numbers.set(id, free[i]!);
        } catch (err) {
          this.options.logger.warn({ err, instanceId: id }, 'could not name an instance; trying again next round');
        }
      }),
    );
    return numbers;
  }
}
