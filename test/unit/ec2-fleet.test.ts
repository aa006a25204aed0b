/**
 * The EC2 fleet driver against aws-sdk-client-mock (EC2 has no local emulator): the exact requests, tags and
 * counts, adoption by tag, warm-pool mode, and every error path.
 */
import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { createEc2Fleet, Ec2Fleet, FLEET_TAG, type Ec2FleetOptions } from '../../src/autoscaler/ec2-fleet.js';
import { AutoscalerController } from '../../src/autoscaler/controller.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

const ec2Mock = mockClient(EC2Client);
const logger = pino({ level: 'silent' });

function instance(id: string, n: number, state: string): Instance {
  return {
    InstanceId: id,
    State: { Name: state as never },
    Tags: [
      { Key: 'Name', Value: `app-tier-instance-${n}` },
      { Key: FLEET_TAG, Value: 'asu1234' },
    ],
  };
}

function fleet(extra: Partial<Ec2FleetOptions> = {}): Ec2Fleet {
  return new Ec2Fleet({
    ec2: new EC2Client({ region: 'us-east-1' }),
    fleetName: 'asu1234',
    amiId: 'ami-0123456789abcdef0',
    instanceType: 't3.micro',
    subnetId: 'subnet-1',
    securityGroupIds: ['sg-1'],
    instanceProfile: 'facefleet-worker',
    userData: '#!/bin/bash\necho hi\n',
    warmPool: false,
    logger,
    ...extra,
  });
}

let nextId = 0;
beforeEach(() => {
  ec2Mock.reset();
  nextId = 0;
  ec2Mock.on(RunInstancesCommand).callsFake(() => ({ Instances: [{ InstanceId: `i-new${++nextId}` }] }));
});

describe('Ec2Fleet', () => {
  it('lists only our instances, by the fleet tag, mapping EC2 states to worker states, across pages', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        Reservations: [{ Instances: [instance('i-1', 1, 'running'), instance('i-2', 2, 'pending')] }],
        NextToken: 'page2',
      })
      .resolvesOnce({ Reservations: [{ Instances: [instance('i-3', 3, 'shutting-down')] }] });
    expect(await fleet().list()).toEqual([
      { id: 'i-1', number: 1, state: 'running' },
      { id: 'i-2', number: 2, state: 'starting' },
      { id: 'i-3', number: 3, state: 'stopping' },
    ]);
    const calls = ec2Mock.commandCalls(DescribeInstancesCommand);
    expect(calls[0]!.args[0].input.Filters).toEqual([
      { Name: `tag:${FLEET_TAG}`, Values: ['asu1234'] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'shutting-down', 'stopped'] },
    ]);
    expect(calls[1]!.args[0].input.NextToken).toBe('page2');
  });

  it('launches one instance per call with the lowest free names, our tags, a client token and the user data', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [instance('i-1', 1, 'running'), instance('i-3', 3, 'running')] }],
    });
    expect(await fleet().launch(2)).toEqual(['i-new1', 'i-new2']);
    const inputs = ec2Mock.commandCalls(RunInstancesCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.TagSpecifications![0]!.Tags)).toEqual([
      [
        { Key: 'Name', Value: 'app-tier-instance-2' },
        { Key: FLEET_TAG, Value: 'asu1234' },
      ],
      [
        { Key: 'Name', Value: 'app-tier-instance-4' },
        { Key: FLEET_TAG, Value: 'asu1234' },
      ],
    ]);
    expect(inputs[0]).toMatchObject({
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 't3.micro',
      SubnetId: 'subnet-1',
      SecurityGroupIds: ['sg-1'],
      IamInstanceProfile: { Name: 'facefleet-worker' },
      MinCount: 1,
      MaxCount: 1,
      UserData: Buffer.from('#!/bin/bash\necho hi\n').toString('base64'),
    });
    expect(inputs[0]!.ClientToken).toMatch(/^asu1234-2-/);
    expect(inputs[0]!.ClientToken!.length).toBeLessThanOrEqual(64);
    expect(inputs[0]!.ClientToken).not.toBe(inputs[1]!.ClientToken);
  });

  it('uses a launch template by id or name, and an instance profile by ARN', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({});
    await fleet({ launchTemplate: 'lt-0abc', amiId: undefined, userData: undefined }).launch(1);
    await fleet({
      launchTemplate: 'facefleet-app-tier',
      amiId: undefined,
      instanceProfile: 'arn:aws:iam::123456789012:instance-profile/w',
    }).launch(1);
    const [byId, byName] = ec2Mock.commandCalls(RunInstancesCommand).map((c) => c.args[0].input);
    expect(byId).toMatchObject({ LaunchTemplate: { LaunchTemplateId: 'lt-0abc', Version: '$Default' } });
    expect(byId!.ImageId).toBeUndefined();
    expect(byId!.UserData).toBeUndefined();
    expect(byName).toMatchObject({
      LaunchTemplate: { LaunchTemplateName: 'facefleet-app-tier' },
      IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/w' },
    });
  });

  it('terminates the instances it is told to stop', async () => {
    ec2Mock.on(TerminateInstancesCommand).resolves({});
    await fleet().stop(['i-1', 'i-2']);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: ['i-1', 'i-2'] });
    await fleet().stop([]);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(1);
  });

  it('in warm-pool mode starts stopped instances first, launches only the rest, and stops instead of terminating', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        { Instances: [instance('i-2', 2, 'stopped'), instance('i-1', 1, 'running'), instance('i-4', 4, 'stopped')] },
      ],
    });
    ec2Mock.on(StartInstancesCommand).resolves({});
    ec2Mock.on(StopInstancesCommand).resolves({});
    const warm = fleet({ warmPool: true });
    expect(await warm.list()).toEqual([{ id: 'i-1', number: 1, state: 'running' }]);
    expect(await warm.launch(3)).toEqual(['i-2', 'i-4', 'i-new1']);
    expect(ec2Mock.commandCalls(StartInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: ['i-2', 'i-4'] });
    expect(ec2Mock.commandCalls(RunInstancesCommand)[0]!.args[0].input.TagSpecifications![0]!.Tags![0]).toEqual({
      Key: 'Name',
      Value: 'app-tier-instance-3',
    });
    await warm.stop(['i-1']);
    expect(ec2Mock.commandCalls(StopInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: ['i-1'] });
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  });

  it('returns what a partial launch got, and throws when nothing launched', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({});
    const capacity = Object.assign(new Error('We currently do not have sufficient t3.micro capacity.'), {
      name: 'InsufficientInstanceCapacity',
    });
    ec2Mock
      .on(RunInstancesCommand)
      .resolvesOnce({ Instances: [{ InstanceId: 'i-ok' }] })
      .rejects(capacity);
    expect(await fleet().launch(3)).toEqual(['i-ok']);
    ec2Mock.on(RunInstancesCommand).rejects(capacity);
    await expect(fleet().launch(2)).rejects.toThrow(/sufficient t3.micro capacity/);
  });

  it('is built from the configuration, and refuses a configuration with neither template nor AMI', () => {
    const config = loadConfig({ FACEFLEET_STACK: 'aws', RESOURCE_PREFIX: 'asu1234' });
    expect(() => createEc2Fleet(config, logger)).toThrow(/APP_TIER_LAUNCH_TEMPLATE or APP_TIER_AMI_ID/);
    const withAmi = loadConfig({ FACEFLEET_STACK: 'aws', APP_TIER_AMI_ID: 'ami-0123456789abcdef0' });
    expect(createEc2Fleet(withAmi, logger)).toBeInstanceOf(Ec2Fleet);
  });
});

describe('the controller over the EC2 fleet', () => {
  const sqsMock = mockClient(SQSClient);

  function controller() {
    return new AutoscalerController({
      sqs: new SQSClient({ region: 'us-east-1' }),
      requestQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/asu1234-req-queue',
      fleet: fleet(),
      policy: { messagesPerWorker: 4, minWorkers: 0, maxWorkers: 19, scaleInIdleMs: 0 },
      pollIntervalMs: 10,
      maxBackoffMs: 40,
      logger,
    });
  }

  beforeEach(() => sqsMock.reset());

  it('launches for the backlog, counting instances already pending after a restart (no doubles)', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({
      Attributes: { ApproximateNumberOfMessages: '30', ApproximateNumberOfMessagesNotVisible: '10' },
    });
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [1, 2, 3, 4, 5, 6].map((n) => instance(`i-${n}`, n, 'pending')) }],
    });
    const decision = await controller().tick();
    expect(decision).toMatchObject({ desired: 10, action: { kind: 'launch', count: 4 } });
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(4);
  });

  it('keeps going through throttling and no capacity, backing off, and says so in its status', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({
      Attributes: { ApproximateNumberOfMessages: '4', ApproximateNumberOfMessagesNotVisible: '0' },
    });
    const throttled = Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });
    ec2Mock.on(DescribeInstancesCommand).rejectsOnce(throttled).resolves({});
    ec2Mock
      .on(RunInstancesCommand)
      .rejectsOnce(Object.assign(new Error('no capacity'), { name: 'InsufficientInstanceCapacity' }))
      .resolves({ Instances: [{ InstanceId: 'i-late' }] });
    const c = controller();
    c.start();
    const deadline = Date.now() + 5000;
    while (ec2Mock.commandCalls(RunInstancesCommand).length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await c.stop();
    expect(ec2Mock.commandCalls(RunInstancesCommand).length).toBeGreaterThanOrEqual(2);
    expect(c.status()).toMatchObject({ queue: { visible: 4, inFlight: 0 }, desired: 1, maxWorkers: 19 });
  });
});
