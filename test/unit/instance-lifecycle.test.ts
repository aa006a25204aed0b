/**
 * A worker's part in its Auto Scaling group instance's life, against aws-sdk-client-mock: protection set and
 * cleared as the instance's workers take and finish work, and the termination lifecycle action completed once
 * every worker of the instance has drained, exactly once.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { InstanceLifecycle } from '../../src/app-tier/instance-lifecycle.js';
import { newScratchDir } from '../helpers/data-dirs.js';

const asMock = mockClient(AutoScalingClient);
const logger = pino({ level: 'silent' });

/** Two workers of one instance, sharing a directory, with their holdings and the target state in our hands. */
function instance() {
  const dir = newScratchDir('facefleet-lifecycle-');
  let target: string | undefined = 'InService';
  const holding: Record<string, number> = { 'worker-1': 0, 'worker-2': 0 };
  const drains: Record<string, number> = { 'worker-1': 0, 'worker-2': 0 };
  const worker = (workerId: string) =>
    new InstanceLifecycle({
      autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
      groupName: 'asu1234-app-tier',
      hookName: 'asu1234-drain',
      workerId,
      dir,
      instanceId: async () => 'i-0abc',
      targetLifecycleState: async () => target,
      holding: () => holding[workerId]!,
      drain: async () => {
        drains[workerId]!++;
        holding[workerId] = 0;
      },
      logger,
    });
  return {
    one: worker('worker-1'),
    two: worker('worker-2'),
    holding,
    drains,
    terminate: () => (target = 'Terminated'),
  };
}

const protections = () =>
  asMock.commandCalls(SetInstanceProtectionCommand).map((c) => c.args[0].input.ProtectedFromScaleIn);

beforeEach(() => {
  asMock.reset();
  asMock.on(SetInstanceProtectionCommand).resolves({});
});

describe('InstanceLifecycle', () => {
  it('protects the instance while any of its workers holds messages, and only then', async () => {
    const i = instance();
    await i.one.round();
    await i.two.round();
    expect(asMock.commandCalls(SetInstanceProtectionCommand)).toHaveLength(1);
    expect(asMock.commandCalls(SetInstanceProtectionCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'asu1234-app-tier',
      InstanceIds: ['i-0abc'],
      ProtectedFromScaleIn: false,
    });
    i.holding['worker-2'] = 3;
    await i.two.round();
    await i.one.round();
    // Worker 2 holds messages: the instance is busy. One worker speaks for it (worker-1, whose id sorts first),
    // once per change of the instance's state, not once per worker and flip.
    expect(protections()).toEqual([false, true]);
    i.holding['worker-2'] = 0;
    await i.two.round();
    await i.one.round();
    expect(protections()).toEqual([false, true, false]);
    // Nothing changed: no call.
    await i.one.round();
    await i.two.round();
    expect(protections()).toHaveLength(3);
  });

  it('drains every worker when the instance is terminating, and completes the lifecycle action once, after the last', async () => {
    const i = instance();
    asMock
      .on(CompleteLifecycleActionCommand)
      .resolvesOnce({})
      .rejects(Object.assign(new Error('No active Lifecycle Action found'), { name: 'ValidationError' }));
    i.holding['worker-1'] = 2;
    i.holding['worker-2'] = 1;
    await i.one.round();
    await i.two.round();
    i.terminate();
    await i.one.round();
    // Worker 2 has not drained yet: the instance must wait.
    expect(i.drains).toEqual({ 'worker-1': 1, 'worker-2': 0 });
    expect(asMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    await i.two.round();
    expect(i.drains).toEqual({ 'worker-1': 1, 'worker-2': 1 });
    expect(asMock.commandCalls(CompleteLifecycleActionCommand).map((c) => c.args[0].input)).toEqual([
      {
        AutoScalingGroupName: 'asu1234-app-tier',
        LifecycleHookName: 'asu1234-drain',
        InstanceId: 'i-0abc',
        LifecycleActionResult: 'CONTINUE',
      },
    ]);
    // Worker 1 finds it done (another worker completed it): no error, no second drain.
    await i.one.round();
    await i.one.round();
    expect(i.drains).toEqual({ 'worker-1': 1, 'worker-2': 1 });
  });
});
