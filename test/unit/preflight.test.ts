/** npm run aws:preflight against aws-sdk-client-mock (no local emulator for STS, Service Quotas, IAM or EC2). */
import {
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { formatChecks, preflight, STANDARD_VCPU_QUOTA } from '../../src/deploy/preflight.js';

const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);
const iam = mockClient(IAMClient);
const quotas = mockClient(ServiceQuotasClient);
const clients = () => ({
  sts: new STSClient({ region: 'us-east-1' }),
  ec2: new EC2Client({ region: 'us-east-1' }),
  iam: new IAMClient({ region: 'us-east-1' }),
  quotas: new ServiceQuotasClient({ region: 'us-east-1' }),
});
const options = {
  region: 'us-east-1',
  maxWorkers: 19,
  instanceType: 't3.micro',
  webInstanceType: 't3.micro',
  group: true,
};

beforeEach(() => {
  for (const m of [sts, ec2, iam, quotas]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/student' });
  ec2
    .on(DescribeInstanceTypesCommand)
    .resolves({ InstanceTypes: [{ InstanceType: 't3.micro', VCpuInfo: { DefaultVCpus: 2 } }] });
  ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'vpc-0abc' }] });
  ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0abc', State: 'available', Name: 'facefleet' }] });
  iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'AWSServiceRoleForAutoScaling' } as never });
  quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 64 } });
});

describe('aws:preflight', () => {
  it('says an account with what the course needs is ready, reading only', async () => {
    const checks = await preflight(clients(), { ...options, ami: 'ami-0abc' });
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(formatChecks(checks)).toContain('✓ vCPU quota: 64 vCPUs allowed, 40 needed: 19 × t3.micro (2 vCPUs)');
    expect(quotas.commandCalls(GetServiceQuotaCommand)[0]!.args[0].input).toEqual({
      ServiceCode: 'ec2',
      QuotaCode: STANDARD_VCPU_QUOTA,
    });
  });

  it('names what a new account lacks, and how to get it', async () => {
    quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 16 } });
    iam.on(GetRoleCommand).rejects(Object.assign(new Error('role not found'), { name: 'NoSuchEntityException' }));
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [] });
    const text = formatChecks(await preflight(clients(), { ...options, ami: 'ami-0def' }));
    expect(text).toContain('✗ vCPU quota: 16 vCPUs allowed, 40 needed');
    expect(text).toContain('or lower MAX_WORKERS to 7');
    expect(text).toContain('✗ Auto Scaling service-linked role: AWSServiceRoleForAutoScaling does not exist yet');
    expect(text).toContain('✗ AMI ami-0def: not found in this region');
    expect(text).toContain('✗ default VPC: none in this region');
  });

  it('stops at credentials that do not work, with one sentence', async () => {
    sts.on(GetCallerIdentityCommand).rejects(new Error('The security token included in the request is expired'));
    const checks = await preflight(clients(), options);
    expect(checks).toHaveLength(1);
    expect(formatChecks(checks)).toMatch(
      /^✗ credentials: no usable AWS credentials for us-east-1 \(The security token .* is expired\): run "aws configure"/,
    );
  });
});
