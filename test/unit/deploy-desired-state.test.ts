/** Provisioning's comparisons of what exists with what is wanted, table by table, without AWS. */
import type { IpPermission, ResponseLaunchTemplateData } from '@aws-sdk/client-ec2';
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { blocksAllPublicAccess, encryptsByDefault, lifecycleDays, retentionChange } from '../../src/deploy/buckets.js';
import { accountOf, sameDocument } from '../../src/deploy/iam-roles.js';
import { sameLaunchData, workerLaunchData } from '../../src/deploy/launch-template.js';
import { deploymentNames } from '../../src/deploy/names.js';
import { describeAttributes } from '../../src/deploy/queues.js';
import { ingressChanges } from '../../src/deploy/security-groups.js';
import { launchTemplateOf } from '../../src/deploy/web-environment.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { bucketCreation, differingAttributes, RETENTION_RULE_ID } from '../../src/shared/aws/resources.js';

const ours = (prefix: string, days: number, status: 'Enabled' | 'Disabled' = 'Enabled'): LifecycleRule => ({
  ID: RETENTION_RULE_ID,
  Status: status,
  Filter: { Prefix: prefix },
  Expiration: { Days: days },
});
const theirs: LifecycleRule = {
  ID: 'archive',
  Status: 'Enabled',
  Filter: { Prefix: 'old/' },
  Expiration: { Days: 90 },
};

describe('buckets', () => {
  it.each([
    // current rules, wanted prefix and days, expected change
    [[], 'uploads/', 7, { kind: 'put', rules: [ours('uploads/', 7)], summary: 'uploads/* expire after 7 day(s)' }],
    [[ours('uploads/', 7)], 'uploads/', 7, { kind: 'none' }],
    [
      [ours('uploads/', 3)],
      'uploads/',
      7,
      { kind: 'put', rules: [ours('uploads/', 7)], summary: 'uploads/* expire after 7 day(s)' },
    ],
    [
      [ours('uploads/', 7, 'Disabled')],
      'uploads/',
      7,
      { kind: 'put', rules: [ours('uploads/', 7)], summary: 'uploads/* expire after 7 day(s)' },
    ],
    [[theirs], '', 1, { kind: 'put', rules: [theirs, ours('', 1)], summary: 'objects expire after 1 day(s)' }],
    [[theirs, ours('', 1)], undefined, undefined, { kind: 'put', rules: [theirs], summary: 'retention rule removed' }],
    [[ours('', 1)], undefined, undefined, { kind: 'delete', summary: 'retention rule removed' }],
    [[theirs], undefined, undefined, { kind: 'none' }],
    [[], 'uploads/', undefined, { kind: 'none' }],
  ] as const)('rules %j, want %s for %s days → %j', (current, prefix, days, expected) => {
    expect(retentionChange(current, { prefix, days })).toEqual(expected);
  });

  it.each([
    [undefined, undefined],
    [0.5, 1],
    [1, 1],
    [2.1, 3],
    [30, 30],
  ])('RETENTION_DAYS %s is a lifecycle rule of %s whole days', (days, whole) => {
    expect(lifecycleDays(days)).toBe(whole);
  });

  it('wants every public access door shut, and any default encryption', () => {
    const all = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
    expect(blocksAllPublicAccess(all)).toBe(true);
    expect(blocksAllPublicAccess({ ...all, BlockPublicPolicy: false })).toBe(false);
    expect(blocksAllPublicAccess(undefined)).toBe(false);
    expect(encryptsByDefault({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] })).toBe(
      true,
    );
    expect(encryptsByDefault({ Rules: [] })).toBe(false);
  });

  it('creates buckets with a location constraint everywhere but us-east-1', () => {
    expect(bucketCreation('b', 'us-east-1')).toEqual({ Bucket: 'b' });
    expect(bucketCreation('b', 'eu-west-3')).toEqual({
      Bucket: 'b',
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-3' },
    });
  });
});

describe('queues', () => {
  const redrive = (arn: string, n: number | string) => JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: n });
  it.each([
    [{ VisibilityTimeout: '30' }, { VisibilityTimeout: '30' }, {}],
    [{ VisibilityTimeout: '60' }, { VisibilityTimeout: '30' }, { VisibilityTimeout: '30' }],
    [{}, { MaximumMessageSize: '1024' }, { MaximumMessageSize: '1024' }],
    // SQS answers the redrive policy with its own spacing and the count as a string: the same policy.
    [
      { RedrivePolicy: `{"deadLetterTargetArn":"arn:q", "maxReceiveCount":"3"}` },
      { RedrivePolicy: redrive('arn:q', 3) },
      {},
    ],
    [
      { RedrivePolicy: redrive('arn:q', 5) },
      { RedrivePolicy: redrive('arn:q', 3) },
      { RedrivePolicy: redrive('arn:q', 3) },
    ],
    [{ RedrivePolicy: 'not json' }, { RedrivePolicy: redrive('arn:q', 3) }, { RedrivePolicy: redrive('arn:q', 3) }],
  ])('current %j, desired %j → set %j', (current, desired, expected) => {
    expect(differingAttributes(current, desired)).toEqual(expected);
  });

  it('describes attributes as the report shows them', () => {
    expect(describeAttributes({ VisibilityTimeout: '30', RedrivePolicy: redrive('arn:q', 3) })).toBe(
      'VisibilityTimeout 30, RedrivePolicy maxReceiveCount 3',
    );
  });
});

describe('IAM', () => {
  it('compares policy documents as IAM returns them (URL-encoded)', () => {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
    expect(sameDocument(encodeURIComponent(JSON.stringify(policy)), policy)).toBe(true);
    expect(sameDocument(encodeURIComponent(JSON.stringify({ ...policy, Version: '2008-10-17' })), policy)).toBe(false);
    expect(sameDocument(undefined, policy)).toBe(false);
    expect(sameDocument('%E0%A4%A', policy)).toBe(false);
  });

  it.each([
    ['arn:aws:iam::123456789012:role/x-web', '123456789012'],
    ['arn:aws-cn:iam::210987654321:role/x-web', '210987654321'],
    [undefined, 'ACCOUNT'],
  ])('the account of %s is %s', (arn, account) => expect(accountOf(arn)).toBe(account));
});

describe('security groups', () => {
  const web = (cidr: string): IpPermission => ({
    IpProtocol: 'tcp',
    FromPort: 8000,
    ToPort: 8000,
    IpRanges: [{ CidrIp: cidr }],
  });
  const ssh: IpPermission = { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] };
  it.each([
    [[], [web('203.0.113.7/32')], [], [web('203.0.113.7/32')]],
    [[web('203.0.113.7/32')], [web('203.0.113.7/32')], [], []],
    [[web('0.0.0.0/0'), ssh], [web('203.0.113.7/32')], [web('0.0.0.0/0'), ssh], [web('203.0.113.7/32')]],
    // The workers take nothing in: whatever someone opened is revoked.
    [[ssh], [], [ssh], []],
  ])('have %j, want %j → revoke %j, authorize %j', (have, wanted, revoke, authorize) => {
    expect(ingressChanges(have, wanted)).toEqual({ revoke, authorize });
  });
  it('compares source by source, as EC2 describes one port’s sources (address ranges, groups) as one rule', () => {
    const fromGroup = (GroupId: string): IpPermission => ({
      IpProtocol: 'tcp',
      FromPort: 8000,
      ToPort: 8000,
      UserIdGroupPairs: [{ GroupId }],
    });
    // What the web group's deployment wants, as separate rules; and as EC2 describes them once they exist.
    const wanted = [web('203.0.113.7/32'), fromGroup('sg-alb')];
    const described: IpPermission = {
      IpProtocol: 'tcp',
      FromPort: 8000,
      ToPort: 8000,
      IpRanges: [{ CidrIp: '203.0.113.7/32' }],
      UserIdGroupPairs: [{ GroupId: 'sg-alb', UserId: '123456789012' }],
    };
    expect(ingressChanges([described], wanted)).toEqual({ revoke: [], authorize: [] });
    // A load balancer group that changed: only that source goes, and the new one comes.
    expect(ingressChanges([described], [web('203.0.113.7/32'), fromGroup('sg-new')])).toEqual({
      revoke: [fromGroup('sg-alb')],
      authorize: [fromGroup('sg-new')],
    });
  });
});

describe('the launch template', () => {
  const config = loadConfig({ FACEFLEET_STACK: 'aws', RESOURCE_PREFIX: 'asu1234' });
  const desired = workerLaunchData({
    config,
    names: deploymentNames('asu1234'),
    amiId: 'ami-0123456789abcdef0',
    instanceType: 't3.micro',
    securityGroupId: 'sg-1',
  });
  const current = desired as ResponseLaunchTemplateData;

  it('launches the worker role, IMDSv2 only, with the rendered user data', () => {
    expect(desired).toMatchObject({
      IamInstanceProfile: { Name: 'asu1234-worker' },
      MetadataOptions: { HttpTokens: 'required' },
    });
    expect(Buffer.from(desired.UserData!, 'base64').toString()).toContain('RESOURCE_PREFIX=asu1234');
  });

  it.each([
    ['the same data', {}, true],
    ['another AMI', { ImageId: 'ami-0fedcba9876543210' }, false],
    ['another type', { InstanceType: 't3.small' }, false],
    ['other groups', { SecurityGroupIds: ['sg-1', 'sg-2'] }, false],
    ['other user data', { UserData: 'eA==' }, false],
    ['IMDSv1 allowed', { MetadataOptions: { HttpTokens: 'optional' } }, false],
  ] as const)('%s: unchanged is %s', (_what, change, same) => {
    expect(sameLaunchData({ ...current, ...change } as ResponseLaunchTemplateData, desired)).toBe(same);
  });
  it('is changed when there is no template data', () => expect(sameLaunchData(undefined, desired)).toBe(false));
});

describe('the deployment file', () => {
  it('names the launch template provisioning made, or none yet', () => {
    expect(launchTemplateOf('# comment\nAWS_REGION=us-east-1\nAPP_TIER_LAUNCH_TEMPLATE=lt-0abc\n')).toBe('lt-0abc');
    expect(launchTemplateOf('AWS_REGION=us-east-1\n')).toBeUndefined();
  });
});
