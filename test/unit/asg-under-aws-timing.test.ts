/**
 * The Auto Scaling path under AWS's own timing and rules: the real AsgFleet, AutoscalerController and
 * InstanceLifecycle against a fake group (scripts/lib/fake-auto-scaling-group.ts, each rule citing its AWS page)
 * whose instances take seconds to be listed and tens of seconds to boot, whose EC2 is eventually consistent,
 * and whose hooks time out. Each test failed on the code before issue 31.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { InstanceLifecycle } from '../../src/app-tier/instance-lifecycle.js';
import { AsgFleet } from '../../src/autoscaler/asg-fleet.js';
import { AutoscalerController } from '../../src/autoscaler/controller.js';
import { warmPoolSettings } from '../../src/deploy/auto-scaling-group.js';
import { FakeAutoScalingGroup, type FakeGroupOptions } from '../../scripts/lib/fake-auto-scaling-group.js';
import { newScratchDir } from '../helpers/data-dirs.js';

const logger = pino({ level: 'silent' });
const GROUP = 'asu1234-app-tier';
const HOOK = 'asu1234-drain';
const sqsMock = mockClient(SQSClient);
let restore: (() => void) | undefined;

afterEach(() => {
  restore?.();
  sqsMock.reset();
});

function setUp(options: Partial<FakeGroupOptions> = {}) {
  let clock = 1_000_000;
  const group = new FakeAutoScalingGroup({
    name: GROUP,
    maxSize: 19,
    now: () => clock,
    launchSeconds: 45,
    hook: { name: HOOK, heartbeatTimeoutSeconds: 60 },
    ...options,
  });
  const mocks = group.attach();
  restore = () => {
    mocks.autoscaling.restore();
    mocks.ec2.restore();
  };
  const fleet = new AsgFleet({
    autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
    ec2: new EC2Client({ region: 'us-east-1' }),
    groupName: GROUP,
    logger,
  });
  return {
    group,
    fleet,
    now: () => clock,
    advance: (seconds: number) => {
      clock += seconds * 1000;
      group.advance();
    },
  };
}

function queue(visible: number) {
  sqsMock.on(GetQueueAttributesCommand).resolves({
    Attributes: { ApproximateNumberOfMessages: String(visible), ApproximateNumberOfMessagesNotVisible: '0' },
  });
}

describe('the Auto Scaling driver under AWS’s timing', () => {
  it('asks for the capacity the policy wants once, however many rounds pass before the instances appear', async () => {
    const { group, fleet, now, advance } = setUp({ activityDelaySeconds: 10, launchSeconds: 45 });
    queue(40);
    const controller = new AutoscalerController({
      sqs: new SQSClient({ region: 'us-east-1' }),
      requestQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/asu1234-req-queue',
      fleet,
      policy: { messagesPerWorker: 4, minWorkers: 0, maxWorkers: 19, scaleInIdleMs: 60_000 },
      pollIntervalMs: 1000,
      logger,
      now,
    });
    let highest = 0;
    for (let second = 0; second < 90; second++) {
      await controller.tick();
      highest = Math.max(highest, group.desired);
      advance(1);
    }
    // 40 messages at 4 a worker: 10, asked for once and kept, never climbing while the instances boot.
    expect(highest).toBe(10);
    expect(group.peakInstances).toBe(10);
    expect(group.inGroup().filter((i) => i.state === 'InService')).toHaveLength(10);
  });

  it('lists instances EC2 does not know yet (eventual consistency) without failing the round, and names them later', async () => {
    const { group, fleet, advance } = setUp({ activityDelaySeconds: 2, consistencySeconds: 5 });
    await fleet.launch(3);
    advance(3);
    // Listed by the group, unknown to EC2's DescribeInstances for a few seconds more.
    const early = await fleet.list();
    expect(early.map((w) => w.state)).toEqual(['starting', 'starting', 'starting']);
    advance(6);
    const later = await fleet.list();
    expect(later.map((w) => w.number)).toEqual([1, 2, 3]);
    expect(group.events.some(([, e]) => /launched/.test(e))).toBe(true);
  });
});

describe('a worker’s part under AWS’s timing', () => {
  function worker(
    group: FakeAutoScalingGroup,
    instanceId: string,
    options: { drain?: () => Promise<void>; hookName?: string; hookTimeoutSeconds?: number; now?: () => number } = {},
  ) {
    return new InstanceLifecycle({
      autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
      groupName: GROUP,
      hookName: options.hookName ?? HOOK,
      workerId: 'worker-1',
      dir: newScratchDir('facefleet-asg-'),
      instanceId: async () => instanceId,
      targetLifecycleState: async () => group.targetLifecycleState(instanceId),
      holding: () => 0,
      drain: options.drain ?? (async () => undefined),
      ...(options.hookTimeoutSeconds === undefined ? {} : { hookTimeoutSeconds: options.hookTimeoutSeconds }),
      ...(options.now ? { now: options.now } : {}),
      logger,
    });
  }

  async function inService(setup: ReturnType<typeof setUp>) {
    await setup.fleet.launch(1);
    setup.advance(60);
    const [instance] = setup.group.inGroup();
    expect(instance!.state).toBe('InService');
    return instance!.id;
  }

  it('drains and completes the hook when scale-in returns the instance to the warm pool (target Warmed:Stopped)', async () => {
    const setup = setUp({ warmPool: { minSize: 1, maxGroupPreparedCapacity: 1, reuseOnScaleIn: true } });
    const id = await inService(setup);
    let drained = false;
    const lifecycle = worker(setup.group, id, {
      drain: async () => {
        drained = true;
      },
    });
    await setup.fleet.stop([id]);
    expect(setup.group.targetLifecycleState(id)).toBe('Warmed:Stopped');
    await lifecycle.round();
    expect(drained).toBe(true);
    // Back in the pool at once, by the worker's completion, not 60 s later by the hook's timeout.
    expect(setup.group.instances.get(id)!.state).toBe('Warmed:Stopped');
    expect(setup.group.events.filter(([, e]) => e.startsWith(id)).at(-1)![1]).toBe(
      `${id} Warmed:Stopped (lifecycle action completed)`,
    );
  });

  it('keeps the hook waiting with heartbeats while a drain outlasts its timeout', async () => {
    const setup = setUp({
      now: Date.now,
      hook: { name: HOOK, heartbeatTimeoutSeconds: 0.3 },
      launchSeconds: 0,
      activityDelaySeconds: 0,
      consistencySeconds: 0,
    });
    await setup.fleet.launch(1);
    setup.group.advance();
    const [instance] = setup.group.inGroup();
    const id = instance!.id;
    // A video that takes 1 s to finish, with a hook that gives up after 0.3 s of silence.
    const lifecycle = worker(setup.group, id, {
      hookTimeoutSeconds: 0.3,
      drain: () => new Promise((r) => setTimeout(r, 1000)),
    });
    await setup.fleet.stop([id]);
    await lifecycle.round();
    expect(setup.group.events.filter(([, e]) => e.startsWith(id)).at(-1)![1]).toBe(
      `${id} terminated (lifecycle action completed)`,
    );
  });

  it('does not take a wrong hook name for a completed action', async () => {
    const setup = setUp();
    const id = await inService(setup);
    await setup.fleet.stop([id]);
    await expect(worker(setup.group, id, { hookName: 'asu1234-no-such-hook' }).round()).rejects.toThrow(
      /No Lifecycle Hook found/,
    );
  });

  it('puts an instance in service only once its workers are ready, and replaces one whose workers never are', async () => {
    const setup = setUp({ launchHook: { name: 'asu1234-launch', heartbeatTimeoutSeconds: 900 } });
    await setup.fleet.launch(2);
    setup.advance(60);
    const [ready, never] = setup.group.inGroup();
    expect([ready!.state, never!.state]).toEqual(['Pending:Wait', 'Pending:Wait']);
    // Booted, but not capacity yet: the policy sees them starting.
    expect((await setup.fleet.list()).map((w) => w.state)).toEqual(['starting', 'starting']);
    let workersReady = false;
    const lifecycle = new InstanceLifecycle({
      autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
      groupName: GROUP,
      hookName: HOOK,
      launchHookName: 'asu1234-launch',
      ready: () => workersReady,
      workerId: 'worker-1',
      dir: newScratchDir('facefleet-asg-'),
      instanceId: async () => ready!.id,
      targetLifecycleState: async () => setup.group.targetLifecycleState(ready!.id),
      holding: () => 0,
      drain: async () => undefined,
      logger,
    });
    await lifecycle.round();
    expect(setup.group.instances.get(ready!.id)!.state).toBe('Pending:Wait');
    workersReady = true;
    await lifecycle.round();
    expect(setup.group.instances.get(ready!.id)!.state).toBe('InService');
    // The other's workers never said so: at the hook's timeout the group abandons it and launches another.
    setup.advance(900);
    expect(setup.group.instances.has(never!.id)).toBe(false);
    expect(setup.group.events.some(([, e]) => e === `${never!.id} terminated (launch hook timed out: abandoned)`)).toBe(
      true,
    );
    expect(setup.group.inGroup()).toHaveLength(2);
  });

  it('keeps a warm pool of the size asked, whatever the desired capacity', () => {
    const spec = {
      name: GROUP,
      launchTemplateId: 'lt-0123',
      subnetIds: ['subnet-a'],
      maxSize: 19,
      prefix: 'asu1234',
      hookName: HOOK,
      drainSeconds: 60,
      warmPoolSize: 4,
    };
    const settings = warmPoolSettings(spec);
    const setup = setUp({
      warmPool: {
        minSize: settings.MinSize,
        maxGroupPreparedCapacity: settings.MaxGroupPreparedCapacity,
        reuseOnScaleIn: true,
      },
    });
    setup.advance(120);
    expect(setup.group.inPool()).toHaveLength(4);
  });
});
