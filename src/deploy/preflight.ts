/**
 * `npm run aws:preflight`: what an account needs before the first provisioning, read and said, nothing changed.
 * Each check names what is missing and how to get it. Run before `aws:provision`; it needs only read rights.
 *
 * - **Credentials and region**: STS GetCallerIdentity (no permission needed), so a missing or expired session
 *   fails here with one sentence instead of half-way through provisioning.
 * - **The vCPU quota**: the On-Demand Standard instances quota (Service Quotas L-1216C47A; new accounts often have
 *   far fewer than the course needs) against MAX_WORKERS instances of the app tier's type, and the web
 *   instance's.
 * - **The Auto Scaling service-linked role** (with --group): the first group in an account creates
 *   AWSServiceRoleForAutoScaling, which needs iam:CreateServiceLinkedRole; it says whether the role exists.
 * - **The AMI** (with --ami): it exists in this region and is available.
 * - **A default VPC**, where provisioning puts the security groups unless --vpc-id is given.
 */
import {
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import { GetServiceQuotaCommand, type ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { isNotFound } from '../shared/aws/clients.js';

/** Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, in vCPUs. */
export const STANDARD_VCPU_QUOTA = 'L-1216C47A';
export const AUTOSCALING_SERVICE_ROLE = 'AWSServiceRoleForAutoScaling';

export interface PreflightClients {
  readonly sts: STSClient;
  readonly ec2: EC2Client;
  readonly iam: IAMClient;
  readonly quotas: ServiceQuotasClient;
}

export interface PreflightOptions {
  readonly region: string;
  readonly maxWorkers: number;
  readonly instanceType: string;
  readonly webInstanceType: string;
  readonly group: boolean;
  readonly ami?: string;
  readonly vpcId?: string;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  /** What was found, or what is missing and how to get it. */
  readonly detail: string;
}

export async function preflight(c: PreflightClients, o: PreflightOptions): Promise<Check[]> {
  const checks: Check[] = [];
  let identity;
  try {
    identity = await c.sts.send(new GetCallerIdentityCommand({}));
  } catch (err) {
    return [
      {
        name: 'credentials',
        ok: false,
        detail: `no usable AWS credentials for ${o.region} (${(err as Error).message}): run "aws configure" or "aws sso login", or set AWS_PROFILE; nothing else was checked`,
      },
    ];
  }
  checks.push({
    name: 'credentials',
    ok: true,
    detail: `account ${identity.Account} as ${identity.Arn}, region ${o.region}`,
  });
  checks.push(await vcpus(c, o));
  if (o.group) checks.push(await serviceLinkedRole(c));
  if (o.ami) checks.push(await image(c, o.ami));
  if (!o.vpcId) checks.push(await defaultVpc(c));
  return checks;
}

async function vcpus(c: PreflightClients, o: PreflightOptions): Promise<Check> {
  const name = 'vCPU quota';
  try {
    const types = [...new Set([o.instanceType, o.webInstanceType])];
    const { InstanceTypes = [] } = await c.ec2.send(
      new DescribeInstanceTypesCommand({ InstanceTypes: types as _InstanceType[] }),
    );
    const per = (t: string) => InstanceTypes.find((i) => i.InstanceType === t)?.VCpuInfo?.DefaultVCpus ?? 2;
    const needed = o.maxWorkers * per(o.instanceType) + per(o.webInstanceType);
    const { Quota } = await c.quotas.send(
      new GetServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: STANDARD_VCPU_QUOTA }),
    );
    const quota = Quota?.Value ?? 0;
    const sum = `${o.maxWorkers} × ${o.instanceType} (${per(o.instanceType)} vCPUs) + the web instance (${o.webInstanceType}, ${per(o.webInstanceType)})`;
    return quota >= needed
      ? { name, ok: true, detail: `${quota} vCPUs allowed, ${needed} needed: ${sum}` }
      : {
          name,
          ok: false,
          detail: `${quota} vCPUs allowed, ${needed} needed (${sum}): request "Running On-Demand Standard instances" (${STANDARD_VCPU_QUOTA}) of ${needed} or more in Service Quotas, or lower MAX_WORKERS to ${Math.max(0, Math.floor((quota - per(o.webInstanceType)) / per(o.instanceType)))}`,
        };
  } catch (err) {
    return {
      name,
      ok: false,
      detail: `could not be read (${(err as Error).message}): it needs servicequotas:GetServiceQuota and ec2:DescribeInstanceTypes`,
    };
  }
}

async function serviceLinkedRole(c: PreflightClients): Promise<Check> {
  const name = 'Auto Scaling service-linked role';
  try {
    await c.iam.send(new GetRoleCommand({ RoleName: AUTOSCALING_SERVICE_ROLE }));
    return { name, ok: true, detail: `${AUTOSCALING_SERVICE_ROLE} exists` };
  } catch (err) {
    if (!isNotFound(err))
      return { name, ok: false, detail: `could not be read (${(err as Error).message}): it needs iam:GetRole` };
    return {
      name,
      ok: false,
      detail: `${AUTOSCALING_SERVICE_ROLE} does not exist yet: the first group creates it, which needs iam:CreateServiceLinkedRole; or create it once with "aws iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com"`,
    };
  }
}

async function image(c: PreflightClients, ami: string): Promise<Check> {
  const name = `AMI ${ami}`;
  try {
    const { Images = [] } = await c.ec2.send(new DescribeImagesCommand({ ImageIds: [ami] }));
    const state = Images[0]?.State;
    if (state === 'available') return { name, ok: true, detail: `available (${Images[0]!.Name ?? 'no name'})` };
    return {
      name,
      ok: false,
      detail: state ? `is ${state}, not available yet: wait for npm run aws:image` : 'not found in this region',
    };
  } catch (err) {
    return {
      name,
      ok: false,
      detail:
        isNotFound(err) || /InvalidAMIID/.test((err as Error).name)
          ? 'not found in this region'
          : (err as Error).message,
    };
  }
}

async function defaultVpc(c: PreflightClients): Promise<Check> {
  const name = 'default VPC';
  try {
    const { Vpcs = [] } = await c.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
    );
    return Vpcs[0]
      ? { name, ok: true, detail: Vpcs[0].VpcId! }
      : {
          name,
          ok: false,
          detail: 'none in this region: give provisioning --vpc-id, or create one with "aws ec2 create-default-vpc"',
        };
  } catch (err) {
    return { name, ok: false, detail: `could not be read (${(err as Error).message})` };
  }
}

/** The checks as lines for a person: ✓ or ✗, the name, what was found. */
export function formatChecks(checks: readonly Check[]): string {
  return checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`).join('\n');
}
