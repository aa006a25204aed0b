/**
 * The deployment's network: the VPC (the region's default unless given) and two security groups whose inbound
 * rules are exactly what the tiers need: the web tier's port from the allowed CIDR, and nothing into the
 * workers (they only call out, to S3 and SQS). Outbound stays open.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { DEPLOYMENT_TAG } from './names.js';
import type { ProvisionOptions } from './provision.js';
import { DeployError, type Deployment } from './session.js';

/**
 * One rule's identity: protocol, ports and sources, address ranges or security groups (rules from other kinds
 * of source count as one "other").
 */
function ruleKey(p: IpPermission): string {
  const ports = `${p.IpProtocol}:${p.FromPort}:${p.ToPort}`;
  const sources = [
    ...(p.IpRanges ?? []).map((r) => `${ports}:${r.CidrIp}`),
    ...(p.UserIdGroupPairs ?? []).map((g) => `${ports}:sg:${g.GroupId}`),
  ];
  return sources.sort().join('|') || `${ports}:other`;
}

/** A rule with one source each (an address range or a security group). */
function bySource(p: IpPermission): IpPermission[] {
  const { IpRanges = [], UserIdGroupPairs = [], ...ports } = p;
  const split = [
    ...IpRanges.map((r) => ({ ...ports, IpRanges: [r] })),
    ...UserIdGroupPairs.map((g) => ({ ...ports, UserIdGroupPairs: [{ GroupId: g.GroupId }] })),
  ];
  return split.length ? split : [p];
}

/** A rule as people read it: "tcp 8000 from 203.0.113.7/32", "tcp 8001 from sg-…". */
function describeRule(p: IpPermission): string {
  const from = [...(p.IpRanges ?? []).map((r) => r.CidrIp), ...(p.UserIdGroupPairs ?? []).map((g) => g.GroupId)];
  const ports = p.FromPort === p.ToPort ? `${p.FromPort}` : `${p.FromPort}-${p.ToPort}`;
  return `${p.IpProtocol} ${ports} from ${from.join(', ')}`;
}

/** What turns a group's inbound rules (`have`) into exactly `wanted`: rules to revoke, and rules to add. */
export function ingressChanges(
  haveRules: readonly IpPermission[],
  wantedRules: readonly IpPermission[],
): { revoke: IpPermission[]; authorize: IpPermission[] } {
  // EC2 describes the sources of one protocol and port range as one rule: compared source by source.
  const have = haveRules.flatMap(bySource);
  const wanted = wantedRules.flatMap(bySource);
  const wantedKeys = new Set(wanted.map(ruleKey));
  const haveKeys = new Set(have.map(ruleKey));
  return {
    revoke: have.filter((p) => !wantedKeys.has(ruleKey(p))),
    authorize: wanted.filter((p) => !haveKeys.has(ruleKey(p))),
  };
}

export async function defaultVpc({ clients: { ec2 }, session, config }: ProvisionOptions): Promise<string> {
  const { Vpcs = [] } = await session.read(
    'default VPC',
    ec2,
    new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
  );
  const id = Vpcs[0]?.VpcId;
  if (!id) {
    throw new DeployError(
      `default VPC: ${config.aws.region} has none; pass --vpc-id (and APP_TIER_SUBNET_ID for the workers).`,
      'default VPC',
    );
  }
  return id;
}

/** The VPC's subnets (one per availability zone in a default VPC): where the app tier's group spreads. */
export async function vpcSubnets({ clients: { ec2 }, session }: ProvisionOptions, vpcId: string): Promise<string[]> {
  const step = `subnets of ${vpcId}`;
  const { Subnets = [] } = await session.read(
    step,
    ec2,
    new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  const ids = Subnets.flatMap((s) => (s.SubnetId ? [s.SubnetId] : [])).sort();
  if (ids.length === 0) throw new DeployError(`${step}: the VPC has no subnet; pass --subnets.`, step);
  return ids;
}

/**
 * A security group whose inbound rules are exactly `ingress` (none for the workers); returns its id. A rule
 * from the group itself needs its id: `ingress` may be a function of it.
 */
export async function ensureSecurityGroup(
  { clients: { ec2 }, session, config }: ProvisionOptions,
  GroupName: string,
  vpcId: string,
  wanted: IpPermission[] | ((ownId: string) => IpPermission[]),
): Promise<string> {
  const step = `security group ${GroupName}`;
  const { SecurityGroups = [] } = await session.read(
    step,
    ec2,
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'group-name', Values: [GroupName] },
        { Name: 'vpc-id', Values: [vpcId] },
      ],
    }),
  );
  const existing = SecurityGroups[0];
  const rulesOf = (id: string) => (typeof wanted === 'function' ? wanted(id) : wanted);
  const describe = (id: string) => {
    const rules = rulesOf(id);
    return rules.length ? `in: ${rules.map(describeRule).join('; ')}` : 'nothing in';
  };
  let groupId = existing?.GroupId;
  if (!existing) {
    const created = await session.change(
      step,
      ec2,
      new CreateSecurityGroupCommand({
        GroupName,
        VpcId: vpcId,
        Description: `facefleet ${config.resources.prefix}: ${describe('itself')}`.slice(0, 255),
        TagSpecifications: [
          { ResourceType: 'security-group', Tags: [{ Key: DEPLOYMENT_TAG, Value: config.resources.prefix }] },
        ],
      }),
      { GroupId: `sg-for-${GroupName}` },
    );
    groupId = created.GroupId;
  }
  if (!groupId) throw new DeployError(`${step}: EC2 returned no group id`, step);
  const ingress = rulesOf(groupId);
  const { revoke, authorize } = ingressChanges(existing?.IpPermissions ?? [], ingress);
  if (revoke.length) {
    await session.change(step, ec2, new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: revoke }));
  }
  if (authorize.length) {
    await session.change(
      step,
      ec2,
      new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: authorize }),
    );
  }
  const outcome = existing ? (revoke.length || authorize.length ? 'updated' : 'unchanged') : 'created';
  session.report(step, outcome, `${groupId}, ${describe(groupId)}`);
  return groupId;
}

/** Deletes the group, retrying while a terminated instance's network interface still holds it. */
export async function deleteSecurityGroup(deployment: Deployment, GroupName: string, retryDelayMs = 5000) {
  const { ec2 } = deployment.clients;
  const step = `security group ${GroupName}`;
  const { SecurityGroups = [] } = await deployment.session.read(
    step,
    ec2,
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [GroupName] }] }),
  );
  if (SecurityGroups.length === 0) {
    deployment.session.report(step, 'already gone');
    return;
  }
  for (const group of SecurityGroups) {
    // A terminated instance's network interface lingers for a few seconds and keeps the group in use.
    for (let attempt = 1; ; attempt++) {
      try {
        await deployment.session.change(step, ec2, new DeleteSecurityGroupCommand({ GroupId: group.GroupId }));
        break;
      } catch (err) {
        const name = ((err as DeployError).cause as { name?: string })?.name;
        if (name !== 'DependencyViolation' || attempt >= 12) throw err;
        await new Promise((r) => setTimeout(r, retryDelayMs));
      }
    }
  }
  deployment.session.report(step, 'deleted', SecurityGroups.map((g) => g.GroupId).join(', '));
}
