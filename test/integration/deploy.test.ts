/**
 * The AWS deployment commands without an AWS account: buckets and queues on fauxqs and the students table on
 * dynalite through the real SDK clients (the bucket settings fauxqs lacks are answered by a recorder), IAM and EC2 on an in-memory
 * account behind aws-sdk-client-mock. Provision, provision again, drift, dry run, the web instance, status,
 * teardown twice, and the errors a user meets.
 */
import { randomBytes } from 'node:crypto';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketNotificationConfigurationCommand,
  HeadBucketCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { createDynamoClient } from '../../src/shared/aws/clients.js';
import { IAMClient } from '@aws-sdk/client-iam';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FLEET_TAG } from '../../src/autoscaler/ec2-fleet.js';
import { createS3Client, createSqsClient } from '../../src/shared/aws/clients.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { startEmulator, type Emulator } from '../../src/local/emulator.js';
import { deploymentNames } from '../../src/deploy/names.js';
import { provision, type Provisioned } from '../../src/deploy/provision.js';
import { DeployError, Session, type AwsClients } from '../../src/deploy/session.js';
import { deploymentStatus, formatStatus } from '../../src/deploy/status.js';
import { teardown } from '../../src/deploy/teardown.js';
import { ensureWarmPool } from '../../src/deploy/warm-pool.js';
import { deploymentFile } from '../../src/deploy/web-environment.js';
import { ensureWebInstance } from '../../src/deploy/web-instance.js';
import { ACCOUNT, awsError, fakeAccount, recordCalls } from '../helpers/fake-aws.js';
import { fakeLoadBalancing } from '../helpers/fake-load-balancing.js';

const CIDR = '203.0.113.7/32';
const AMI = 'ami-0123456789abcdef0';
const CHANGES = /^(Create|Put|Add|Authorize|Revoke|Modify|Set|Update|Run|Start|Terminate|Delete)/;

describe('the AWS deployment commands', () => {
  let emulator: Emulator;
  let tables: Server;
  let fake: ReturnType<typeof fakeAccount>;
  let clients: AwsClients;
  const prefix = `d-${randomBytes(3).toString('hex')}`;
  const config = loadConfig({ FACEFLEET_STACK: 'aws', AWS_REGION: 'us-east-1', RESOURCE_PREFIX: prefix });
  const names = deploymentNames(prefix);
  let printed: string[] = [];
  const session = (dryRun = false) => new Session(dryRun, (line) => printed.push(line));
  const run = (s = session(), options: { ami?: string; cidr?: string } = {}) =>
    provision({
      config,
      clients,
      session: s,
      allowCidr: options.cidr ?? CIDR,
      amiId: options.ami ?? AMI,
      instanceType: 't3.micro',
    });

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, region: 'us-east-1' });
    // DynamoDB has a local server: dynalite, in memory.
    tables = dynalite({ createTableMs: 0, deleteTableMs: 0 });
    await new Promise<void>((resolve) => tables.listen(0, '127.0.0.1', resolve));
    fake = fakeAccount();
    // The S3 and SQS clients of the local stack's kind (the emulator's placeholder credentials), on fauxqs.
    const local = loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint, RESOURCE_PREFIX: prefix });
    clients = {
      s3: createS3Client(local),
      sqs: createSqsClient(local),
      iam: new IAMClient({ region: 'us-east-1' }),
      ec2: new EC2Client({ region: 'us-east-1' }),
      dynamodb: createDynamoClient(
        loadConfig({ DYNAMODB_ENDPOINT_URL: `http://127.0.0.1:${(tables.address() as AddressInfo).port}` }),
      ),
    };
    recordCalls(clients.s3, fake.log);
    recordCalls(clients.sqs, fake.log);
    recordCalls(clients.dynamodb, fake.log);
  });

  afterAll(async () => {
    fake?.iam.restore();
    fake?.ec2.restore();
    clients?.s3.destroy();
    clients?.sqs.destroy();
    clients?.dynamodb.destroy();
    await new Promise((resolve) => tables?.close(resolve));
    await emulator?.stop();
  });

  beforeEach(() => {
    fake.log.length = 0;
    printed = [];
  });

  describe('provision', () => {
    let result: Provisioned;

    it('makes a dry run without changing anything', async () => {
      const s = session(true);
      await run(s);
      expect(fake.log.filter((c) => CHANGES.test(c))).toEqual([]);
      expect(s.reports.every((r) => r.outcome === 'would create')).toBe(true);
      expect(printed.some((l) => l.includes('would call iam:CreateRole'))).toBe(true);
      expect(printed.some((l) => l.includes('would call s3:CreateBucket'))).toBe(true);
      expect(fake.roles.size).toBe(0);
    });

    it('creates the buckets, queues, roles, profiles, groups and the launch template', async () => {
      const s = session();
      result = await run(s);
      expect(s.reports.map((r) => r.outcome)).toEqual(Array(s.reports.length).fill('created'));
      expect(result.account).toBe(ACCOUNT);

      // Buckets, hardened; queues with the course's limits and the redrive policy.
      for (const Bucket of [names.inBucket, names.outBucket, names.galleryBucket]) {
        await clients.s3.send(new HeadBucketCommand({ Bucket }));
      }
      expect(fake.log.filter((c) => c === 'PutPublicAccessBlock')).toHaveLength(3);
      expect(fake.log.filter((c) => c === 'PutBucketEncryption')).toHaveLength(3);
      // Retention (RETENTION_DAYS, 7 by default): uploads and labels expire, enrollment photos and the gallery never.
      const lifecycle = async (Bucket: string) =>
        (await clients.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })).catch(() => ({ Rules: [] })))
          .Rules;
      // And in every bucket: multipart uploads left unfinished are aborted after a day (their parts are billed).
      const abort = {
        ID: 'facefleet-abort-incomplete-uploads',
        Status: 'Enabled',
        Filter: { Prefix: '' },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      };
      expect(await lifecycle(names.inBucket)).toEqual([
        { ID: 'facefleet-retention', Status: 'Enabled', Filter: { Prefix: 'uploads/' }, Expiration: { Days: 7 } },
        abort,
      ]);
      expect(await lifecycle(names.outBucket)).toEqual([
        { ID: 'facefleet-retention', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 7 } },
        abort,
      ]);
      expect(await lifecycle(names.galleryBucket)).toEqual([abort]);
      const { Attributes = {} } = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: result.queueUrls.request, AttributeNames: ['All'] }),
      );
      expect(Attributes).toMatchObject({ MaximumMessageSize: '1024', VisibilityTimeout: '30' });
      expect(JSON.parse(Attributes['RedrivePolicy']!)).toMatchObject({
        maxReceiveCount: 3,
        deadLetterTargetArn: expect.stringContaining(names.deadLetterQueue),
      });

      // The student records' table, on demand; videos put under videos/ announced by S3 to the video queue,
      // which S3 (for this bucket of this account only) may send to, and whose messages may exceed 1024 bytes.
      const table = await clients.dynamodb.send(new DescribeTableCommand({ TableName: names.studentsTable }));
      expect(table.Table).toMatchObject({
        TableStatus: 'ACTIVE',
        KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
        BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      });
      const video = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: result.queueUrls.video, AttributeNames: ['All'] }),
      );
      const videoArn = video.Attributes!['QueueArn']!;
      expect(Number(video.Attributes!['MaximumMessageSize'])).toBeGreaterThanOrEqual(256 * 1024);
      expect(JSON.parse(video.Attributes!['Policy']!).Statement).toEqual([
        {
          Sid: 'S3VideoEvents',
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: videoArn,
          Condition: {
            ArnEquals: { 'aws:SourceArn': `arn:aws:s3:::${names.inBucket}` },
            StringEquals: { 'aws:SourceAccount': ACCOUNT },
          },
        },
      ]);
      const notification = await clients.s3.send(
        new GetBucketNotificationConfigurationCommand({ Bucket: names.inBucket }),
      );
      expect(notification.QueueConfigurations).toEqual([
        {
          Id: 'facefleet-videos',
          QueueArn: videoArn,
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'videos/' }] } },
        },
      ]);
      // The policy is set before the notification: S3 checks it may send when the notification is put.
      expect(fake.log.indexOf('SetQueueAttributes')).toBeLessThan(
        fake.log.indexOf('PutBucketNotificationConfiguration'),
      );

      // IAM: two roles trusted by EC2, each in its instance profile.
      for (const role of [names.webRole, names.workerRole]) {
        expect(JSON.parse(fake.roles.get(role)!.trust).Statement[0].Principal).toEqual({
          Service: 'ec2.amazonaws.com',
        });
        expect(fake.profiles.get(role)).toEqual([role]);
      }

      // Security groups: 8000 from the given CIDR for the web tier, nothing in for the workers.
      const groups = [...fake.groups.values()];
      expect(groups.find((g) => g.GroupName === names.webSecurityGroup)!.IpPermissions).toEqual([
        { IpProtocol: 'tcp', FromPort: 8000, ToPort: 8000, IpRanges: [{ CidrIp: CIDR }] },
      ]);
      expect(groups.find((g) => g.GroupName === names.workerSecurityGroup)!.IpPermissions).toEqual([]);

      // The launch template: the AMI, the worker profile and group, IMDSv2, the worker's user data.
      const template = fake.templates.get(names.launchTemplate)!;
      const data = template.versions[0]!;
      expect(data).toMatchObject({
        ImageId: AMI,
        InstanceType: 't3.micro',
        IamInstanceProfile: { Name: names.workerRole },
        SecurityGroupIds: [result.workerSecurityGroupId],
        MetadataOptions: { HttpTokens: 'required' },
      });
      const userData = Buffer.from(data.UserData!, 'base64').toString();
      expect(userData).toContain(`RESOURCE_PREFIX=${prefix}`);
      expect(userData).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AKIA/);
    });

    it('writes a deployment file that loads as the web tier and autoscaler configuration', () => {
      const text = deploymentFile(config, result, new Date('2026-11-23T00:00:00Z'));
      expect(text).toContain(`# Request queue: ${result.queueUrls.request}`);
      const env = Object.fromEntries(
        text
          .split('\n')
          .filter((l) => /^[A-Z_]+=/.test(l))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      const loaded = loadConfig(env);
      expect(loaded.stack).toBe('aws');
      expect(loaded.resources.prefix).toBe(prefix);
      expect(loaded.fleet).toMatchObject({ driver: 'ec2', ec2: { launchTemplate: result.launchTemplateId } });
      expect(loaded.autoscaler.policy).toEqual(config.autoscaler.policy);
      expect(text).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|API_KEY=/);
    });

    it('changes nothing on a second run, and says so', async () => {
      const s = session();
      await run(s);
      expect(s.reports.map((r) => r.outcome)).toEqual(Array(s.reports.length).fill('unchanged'));
      expect(fake.log.filter((c) => CHANGES.test(c))).toEqual([]);
    });

    it('puts back what drifted, and only that', async () => {
      const web = [...fake.groups.values()].find((g) => g.GroupName === names.webSecurityGroup)!;
      web.IpPermissions.push({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] });
      await clients.sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: result.queueUrls.request, Attributes: { VisibilityTimeout: '5' } }),
      );
      fake.log.length = 0;
      const s = session();
      await run(s, { ami: 'ami-0fedcba9876543210' });
      const changed = Object.fromEntries(
        s.reports.filter((r) => r.outcome !== 'unchanged').map((r) => [r.step, r.outcome]),
      );
      expect(changed).toEqual({
        [`queue ${names.requestQueue}`]: 'updated',
        [`security group ${names.webSecurityGroup}`]: 'updated',
        [`launch template ${names.launchTemplate}`]: 'updated',
      });
      expect(web.IpPermissions).toHaveLength(1);
      const template = fake.templates.get(names.launchTemplate)!;
      expect(template.versions[template.defaultVersion - 1]!.ImageId).toBe('ami-0fedcba9876543210');
      expect(fake.log.filter((c) => CHANGES.test(c)).sort()).toEqual(
        [
          'CreateLaunchTemplateVersion',
          'ModifyLaunchTemplate',
          'RevokeSecurityGroupIngress',
          'SetQueueAttributes',
        ].sort(),
      );
    });

    it('starts the web instance once, tagged and with the deployment file in its user data', async () => {
      const options = {
        config,
        clients,
        deploymentFileText: deploymentFile(config, result),
        amiId: AMI,
        instanceType: 't3.micro',
        securityGroupId: result.webSecurityGroupId,
      };
      const instance = await ensureWebInstance({ ...options, session: session() });
      const run = fake.ec2.commandCalls(RunInstancesCommand).at(-1)!.args[0].input;
      expect(run).toMatchObject({
        ImageId: AMI,
        IamInstanceProfile: { Name: names.webRole },
        SecurityGroupIds: [result.webSecurityGroupId],
        MetadataOptions: { HttpTokens: 'required' },
      });
      expect(run.TagSpecifications![0]!.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'Name', Value: 'web-instance' },
          { Key: 'facefleet:web', Value: prefix },
        ]),
      );
      // Never the fleet tag: the autoscaler must not count or stop its own host.
      expect(run.TagSpecifications![0]!.Tags!.some((t) => t.Key === FLEET_TAG)).toBe(false);
      const userData = Buffer.from(run.UserData!, 'base64').toString();
      expect(userData).toContain(`APP_TIER_LAUNCH_TEMPLATE=${result.launchTemplateId}`);
      expect(userData).toContain(
        'systemctl enable --now facefleet-autoscaler.service facefleet-monitor.service facefleet-web.service',
      );
      expect(userData).not.toContain('#  facefleet deployment');
      expect(instance?.PublicIpAddress).toBe('198.51.100.7');

      const again = session();
      await ensureWebInstance({ ...options, session: again });
      expect(again.reports[0]!.outcome).toBe('unchanged');
      expect(fake.ec2.commandCalls(RunInstancesCommand)).toHaveLength(1);
    });

    it('reports queues, instances by state and bucket contents', async () => {
      await clients.s3.send(new PutObjectCommand({ Bucket: names.outBucket, Key: 'test_00', Body: 'Paul' }));
      await clients.ec2.send(
        new RunInstancesCommand({
          MinCount: 1,
          MaxCount: 1,
          TagSpecifications: [
            {
              ResourceType: 'instance',
              Tags: [
                { Key: 'Name', Value: 'app-tier-instance-1' },
                { Key: FLEET_TAG, Value: prefix },
              ],
            },
          ],
        }),
      );
      const status = await deploymentStatus({ prefix, clients, session: session() });
      expect(status.queues.map((q) => [q.name, q.visible, q.inFlight])).toEqual([
        [names.requestQueue, 0, 0],
        [names.videoQueue, 0, 0],
        [names.responseQueue, 0, 0],
        [names.deadLetterQueue, 0, 0],
      ]);
      expect(status.instances.map((i) => i.name).sort()).toEqual(['app-tier-instance-1', 'web-instance']);
      expect(status.buckets.find((b) => b.name === names.outBucket)!.objects).toBe(1);
      expect(formatStatus(status)).toMatch(/instances: 2 running/);
      // No web process runs: no reply queue of its own; no web group: no load balancer.
      expect(status.replyQueues).toEqual([]);
      expect(formatStatus(status)).toMatch(/reply queues of web processes: none/);
    });
  });

  describe('warm pool', () => {
    it('launches the missing app-tier instances with the fleet driver and stops them, once', async () => {
      const launchTemplateId = fake.templates.get(names.launchTemplate)!.id;
      const s = session();
      const ids = await ensureWarmPool({ prefix, size: 3, launchTemplateId, clients, session: s });
      // One app-tier instance existed (the status test's): two more, named after the lowest free numbers.
      expect(ids).toHaveLength(2);
      const pool = fake.instances.filter((i) => ids.includes(i.InstanceId!));
      expect(pool.map((i) => i.State!.Name)).toEqual(['stopped', 'stopped']);
      expect(pool.map((i) => i.Tags!.find((t) => t.Key === 'Name')!.Value).sort()).toEqual([
        'app-tier-instance-2',
        'app-tier-instance-3',
      ]);
      const again = session();
      expect(await ensureWarmPool({ prefix, size: 3, launchTemplateId, clients, session: again })).toEqual([]);
      expect(again.reports[0]!.outcome).toBe('unchanged');
    });
  });

  describe('teardown', () => {
    it('removes everything, instances first and buckets last, after emptying them', async () => {
      const s = session();
      await teardown({ prefix, clients, session: s, retryDelayMs: 10 });
      const first = (call: string) => fake.log.indexOf(call);
      const order = [
        'TerminateInstances',
        'DeleteLaunchTemplate',
        'DeleteInstanceProfile',
        'DeleteRole',
        'DeleteSecurityGroup',
        'DeleteTable',
        'DeleteQueue',
        'DeleteBucket',
      ].map(first);
      expect(order.every((index) => index >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      // The out-bucket held an object: emptied before it was deleted.
      expect(first('DeleteObjects')).toBeLessThan(fake.log.lastIndexOf('DeleteBucket'));
      expect(fake.instances.every((i) => i.State!.Name === 'terminated')).toBe(true);
      expect([fake.roles.size, fake.profiles.size, fake.groups.size, fake.templates.size]).toEqual([0, 0, 0, 0]);
      const queue = await clients.sqs
        .send(new GetQueueUrlCommand({ QueueName: names.requestQueue }))
        .catch((e: Error) => e.name);
      expect(queue).toMatch(/QueueDoesNotExist|NonExistentQueue/);
      const table = await clients.dynamodb
        .send(new DescribeTableCommand({ TableName: names.studentsTable }))
        .catch((e: Error) => e.name);
      expect(table).toBe('ResourceNotFoundException');
      const bucket = await clients.s3
        .send(new HeadBucketCommand({ Bucket: names.inBucket }))
        .catch((e: Error) => e.name);
      expect(bucket).toMatch(/NotFound|NoSuchBucket/);
    });

    it('is safe to run again: everything is already gone', async () => {
      const s = session();
      await teardown({ prefix, clients, session: s });
      expect(s.reports.map((r) => r.outcome)).toEqual(Array(s.reports.length).fill('already gone'));
      expect(
        fake.log.filter(
          (c) => CHANGES.test(c) && c !== 'DeleteRolePolicy' && c !== 'DeleteRole' && c !== 'DeleteLaunchTemplate',
        ),
      ).toEqual([]);
    });
  });

  describe('the web group behind a load balancer', () => {
    const groupPrefix = `w-${randomBytes(3).toString('hex')}`;
    const groupConfig = loadConfig({ FACEFLEET_STACK: 'aws', AWS_REGION: 'us-east-1', RESOURCE_PREFIX: groupPrefix });
    const g = deploymentNames(groupPrefix);
    let balancing: ReturnType<typeof fakeLoadBalancing>;
    let withGroup: AwsClients;
    const provisionGroup = (s = session()) =>
      provision({
        config: groupConfig,
        clients: withGroup,
        session: s,
        allowCidr: CIDR,
        amiId: AMI,
        instanceType: 't3.micro',
        webGroup: { instanceType: 't3.small' },
      });
    const securityGroup = (name: string) => [...fake.groups.values()].find((x) => x.GroupName === name)!;
    /** A group's inbound rules as "port from source", one a source. */
    const rules = (name: string) =>
      securityGroup(name)
        .IpPermissions.flatMap((p) => [
          ...(p.IpRanges ?? []).map((r) => `${p.FromPort} from ${r.CidrIp}`),
          ...(p.UserIdGroupPairs ?? []).map((u) => `${p.FromPort} from ${u.GroupId}`),
        ])
        .sort();

    beforeAll(() => {
      balancing = fakeLoadBalancing(fake.log);
      withGroup = { ...clients, ...balancing.clients };
    });
    afterAll(() => {
      balancing?.mocks.elb.restore();
      balancing?.mocks.autoscaling.restore();
    });

    it('puts a load balancer and a group of web instances in front, with the rules between them, once', async () => {
      const result = await provisionGroup();
      const alb = securityGroup(g.loadBalancerSecurityGroup).GroupId;
      const web = securityGroup(g.webSecurityGroup).GroupId;
      expect(rules(g.loadBalancerSecurityGroup)).toEqual([`8000 from ${CIDR}`]);
      // Clients, the load balancer, and the group's own calls to the web instance (status, monitor).
      expect(rules(g.webSecurityGroup)).toEqual(
        [`8000 from ${CIDR}`, `8000 from ${alb}`, `8001 from ${web}`, `8010 from ${web}`].sort(),
      );
      const template = fake.templates.get(g.webLaunchTemplate)!;
      const data = template.versions[template.defaultVersion - 1]!;
      expect(data).toMatchObject({ ImageId: AMI, InstanceType: 't3.small', IamInstanceProfile: { Name: g.webRole } });
      const userData = Buffer.from(data.UserData!, 'base64').toString('utf8');
      expect(userData).toContain('WEB_GROUP_MEMBER=true');
      expect(userData).toContain('systemctl enable --now facefleet-web.service\n');
      expect(balancing.groups.get(g.webGroup)).toMatchObject({
        LaunchTemplate: { LaunchTemplateId: template.id },
        VPCZoneIdentifier: 'subnet-a,subnet-b',
        MinSize: 2,
        MaxSize: 4,
      });
      expect(balancing.balancers.get(g.loadBalancer)!.subnets).toEqual(['subnet-a', 'subnet-b']);
      expect(result.webGroup).toMatchObject({ name: g.webGroup, launchTemplateId: template.id });
      // The web instance's file: its autoscaler and monitor answer the group, which the file names.
      const file = deploymentFile(groupConfig, result);
      expect(file).toMatch(/^AUTOSCALER_HOST=0\.0\.0\.0$/m);
      expect(file).toContain(`# Web group: ${g.webGroup} behind http://${result.webGroup!.loadBalancerDns}:8000/`);
      fake.log.length = 0;
      const again = session();
      await provisionGroup(again);
      expect(fake.log.filter((c) => CHANGES.test(c))).toEqual([]);
      expect(again.reports.every((r) => r.outcome === 'unchanged')).toBe(true);
    });

    it('is torn down whole: the group, the load balancer, its target group, the templates and groups', async () => {
      const s = session();
      await teardown({ prefix: groupPrefix, clients: withGroup, session: s, retryDelayMs: 1 });
      expect(balancing.groups.has(g.webGroup)).toBe(false);
      expect(balancing.balancers.size).toBe(0);
      expect(balancing.targetGroups.size).toBe(0);
      expect(fake.templates.has(g.webLaunchTemplate)).toBe(false);
      expect([...fake.groups.values()].filter((x) => x.GroupName.startsWith(groupPrefix))).toEqual([]);
      const deletions = fake.log.filter((c) => c.startsWith('Delete'));
      // The load balancer before the security groups it uses; the web group's rules name the ALB's group.
      expect(deletions.indexOf('DeleteLoadBalancer')).toBeLessThan(deletions.indexOf('DeleteSecurityGroup'));
    });
  });

  describe('errors', () => {
    it('names the step and the permission AWS denied', async () => {
      fake.failNext('PutRolePolicy', awsError('AccessDenied', 403, 'User: arn:aws:iam::1:user/me is not authorized'));
      const error = await run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeployError);
      expect((error as Error).message).toMatch(
        new RegExp(`^IAM policy ${names.webRole}: AWS denied iam:PutRolePolicy \\(AccessDenied\\)\\. .*safe to re-run`),
      );
    });

    it('says to wait and re-run when AWS keeps throttling', async () => {
      fake.failNext('CreateSecurityGroup', awsError('RequestLimitExceeded', 503));
      const error = await run().catch((e: unknown) => e);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^security group ${names.webSecurityGroup}: AWS kept throttling ec2:CreateSecurityGroup .*Wait a minute`,
        ),
      );
      await teardown({ prefix, clients, session: session(), retryDelayMs: 10 });
    });
  });
});
