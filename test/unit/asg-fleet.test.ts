/**
 * The Auto Scaling group driver against aws-sdk-client-mock (no local emulator for Auto Scaling): the exact
 * inputs, lifecycle states, busy from scale-in protection, warm-pool instances left out, numbering, partial
 * failures, and throttling through the controller's back-off.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  type Instance,
} from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { AsgFleet, workerState } from '../../src/autoscaler/asg-fleet.js';
import { AutoscalerController } from '../../src/autoscaler/controller.js';

const asMock = mockClient(AutoScalingClient);
const ec2Mock = mockClient(EC2Client);
const sqsMock = mockClient(SQSClient);
const logger = pino({ level: 'silent' });
const GROUP = 'asu1234-app-tier';

const member = (id: string, state: string, protectedFromScaleIn = false): Instance =>
  ({ InstanceId: id, LifecycleState: state, ProtectedFromScaleIn: protectedFromScaleIn }) as Instance;

function group(instances: Instance[], desired = instances.length, max = 19) {
  asMock.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      { AutoScalingGroupName: GROUP, DesiredCapacity: desired, MaxSize: max, Instances: instances } as never,
    ],
  });
}

function names(byId: Record<string, string>) {
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: Object.entries(byId).map(([InstanceId, name]) => ({
          InstanceId,
          Tags: [{ Key: 'Name', Value: name }],
        })),
      },
    ],
  });
}

const fleet = () =>
  new AsgFleet({
    autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
    ec2: new EC2Client({ region: 'us-east-1' }),
    groupName: GROUP,
    logger,
  });

beforeEach(() => {
  asMock.reset();
  ec2Mock.reset();
  sqsMock.reset();
});

describe('AsgFleet', () => {
  it.each([
    ['Pending', 'starting'],
    ['Pending:Wait', 'starting'],
    ['Pending:Proceed', 'starting'],
    ['InService', 'running'],
    ['Terminating', 'stopping'],
    ['Terminating:Wait', 'stopping'],
    ['Terminating:Proceed', 'stopping'],
    ['Detaching', 'stopping'],
    ['EnteringStandby', 'stopping'],
    ['Warmed:Stopped', undefined],
    ['Warmed:Pending:Wait', undefined],
    ['Warmed:Running', undefined],
  ])('maps the lifecycle state %s to %s', (state, expected) => {
    expect(workerState(state)).toBe(expected);
  });

  it('lists the group’s instances with their state, numbers, and busy from scale-in protection; the warm pool is not the fleet', async () => {
    group([
      member('i-a', 'InService', true),
      member('i-b', 'InService', false),
      member('i-c', 'Pending:Wait'),
      member('i-d', 'Terminating:Wait'),
      member('i-w', 'Warmed:Stopped'),
    ]);
    names({
      'i-a': 'app-tier-instance-2',
      'i-b': 'app-tier-instance-1',
      'i-c': 'app-tier-instance-3',
      'i-d': 'app-tier-instance-4',
    });
    expect(await fleet().list()).toEqual([
      { id: 'i-b', number: 1, state: 'running', busy: false },
      { id: 'i-a', number: 2, state: 'running', busy: true },
      { id: 'i-c', number: 3, state: 'starting' },
      { id: 'i-d', number: 4, state: 'stopping' },
    ]);
    expect(asMock.commandCalls(DescribeAutoScalingGroupsCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupNames: [GROUP],
    });
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]!.args[0].input).toEqual({
      Filters: [{ Name: 'instance-id', Values: ['i-a', 'i-b', 'i-c', 'i-d'] }],
    });
  });

  it('names the instances the group launched app-tier-instance-<lowest free n>', async () => {
    group([member('i-a', 'InService'), member('i-new1', 'Pending'), member('i-new2', 'Pending')]);
    names({ 'i-a': 'app-tier-instance-2', 'i-new1': 'app-tier-instance', 'i-new2': 'app-tier-instance' });
    const listed = await fleet().list();
    expect(listed.map((w) => [w.id, w.number])).toEqual([
      ['i-new1', 1],
      ['i-a', 2],
      ['i-new2', 3],
    ]);
    expect(ec2Mock.commandCalls(CreateTagsCommand).map((c) => c.args[0].input)).toEqual([
      { Resources: ['i-new1'], Tags: [{ Key: 'Name', Value: 'app-tier-instance-1' }] },
      { Resources: ['i-new2'], Tags: [{ Key: 'Name', Value: 'app-tier-instance-3' }] },
    ]);
  });

  it('scales out by raising the desired capacity, without the group’s cooldown, never past its maximum', async () => {
    group([member('i-a', 'InService')], 1, 3);
    await fleet().launch(2);
    expect(asMock.commandCalls(SetDesiredCapacityCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: GROUP,
      DesiredCapacity: 3,
      HonorCooldown: false,
    });
    await expect(fleet().launch(3)).rejects.toThrow(/allows 3 instances; 4 asked for/);
  });

  it('scales in by terminating exactly the chosen instances, lowering the desired capacity with each', async () => {
    asMock.on(TerminateInstanceInAutoScalingGroupCommand).resolves({});
    await fleet().stop(['i-b', 'i-c']);
    expect(asMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceId: 'i-b', ShouldDecrementDesiredCapacity: true },
      { InstanceId: 'i-c', ShouldDecrementDesiredCapacity: true },
    ]);
  });

  it('goes on when some terminations fail, and fails the round when all do', async () => {
    const gone = Object.assign(new Error('Instance Id not found'), { name: 'ValidationError' });
    asMock
      .on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: 'i-gone' })
      .rejects(gone)
      .on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: 'i-b' })
      .resolves({});
    await expect(fleet().stop(['i-b', 'i-gone'])).resolves.toBeUndefined();
    await expect(fleet().stop(['i-gone'])).rejects.toThrow('Instance Id not found');
  });

  it('says when the group does not exist', async () => {
    asMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    await expect(fleet().list()).rejects.toThrow(/no Auto Scaling group asu1234-app-tier: run npm run aws:provision/);
  });

  describe('under the controller', () => {
    const controller = (scaleInIdleMs = 0) =>
      new AutoscalerController({
        sqs: new SQSClient({ region: 'us-east-1' }),
        requestQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/asu1234-req-queue',
        fleet: fleet(),
        policy: { messagesPerWorker: 4, minWorkers: 0, maxWorkers: 19, scaleInIdleMs },
        pollIntervalMs: 10,
        maxBackoffMs: 40,
        logger,
      });
    const queue = (visible: number, inFlight: number) =>
      sqsMock.on(GetQueueAttributesCommand).resolves({
        Attributes: {
          ApproximateNumberOfMessages: String(visible),
          ApproximateNumberOfMessagesNotVisible: String(inFlight),
        },
      });

    it('keeps going through throttling, backing off, and then sets the desired capacity', async () => {
      queue(8, 0);
      const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
      asMock
        .on(DescribeAutoScalingGroupsCommand)
        .rejectsOnce(throttled)
        .rejectsOnce(throttled)
        .resolves({ AutoScalingGroups: [{ DesiredCapacity: 0, MaxSize: 19, Instances: [] } as never] });
      asMock.on(SetDesiredCapacityCommand).resolves({});
      const c = controller();
      c.start();
      const deadline = Date.now() + 5000;
      while (asMock.commandCalls(SetDesiredCapacityCommand).length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await c.stop();
      expect(asMock.commandCalls(SetDesiredCapacityCommand)[0]!.args[0].input.DesiredCapacity).toBe(2);
      expect(asMock.commandCalls(DescribeAutoScalingGroupsCommand).length).toBeGreaterThanOrEqual(3);
    });

    it('under a trickle, stops only an unprotected (idle) instance once the surplus has lasted', async () => {
      queue(0, 1);
      group([member('i-a', 'InService', true), member('i-b', 'InService', false), member('i-c', 'InService', true)]);
      names({ 'i-a': 'app-tier-instance-1', 'i-b': 'app-tier-instance-2', 'i-c': 'app-tier-instance-3' });
      asMock.on(TerminateInstanceInAutoScalingGroupCommand).resolves({});
      const c = controller(30);
      expect((await c.tick()).action).toEqual({ kind: 'none' });
      await new Promise((r) => setTimeout(r, 40));
      expect((await c.tick()).action).toEqual({ kind: 'stop', ids: ['i-b'] });
      expect(
        asMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand).map((x) => x.args[0].input.InstanceId),
      ).toEqual(['i-b']);
    });
  });
});
