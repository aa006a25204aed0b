/**
 * The deployment's IAM roles (web, worker), each trusted by EC2 only, with its inline least-privilege policy
 * (iam-policies.ts) and an instance profile of the same name.
 */
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DetachRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { EC2_TRUST_POLICY, webPolicy, workerPolicy } from './iam-policies.js';
import { CLOUDWATCH_AGENT_POLICY } from './cloudwatch-agent.js';
import { DEPLOYMENT_TAG, PLACEHOLDER_ACCOUNT, type DeploymentNames } from './names.js';
import type { ProvisionOptions } from './provision.js';
import { alreadyGone, orMissing, type Deployment } from './session.js';

/** Policy documents come back URL-encoded from IAM; compare them parsed. */
export function sameDocument(stored: string | undefined, desired: object): boolean {
  if (!stored) return false;
  try {
    return JSON.stringify(JSON.parse(decodeURIComponent(stored))) === JSON.stringify(desired);
  } catch {
    return false;
  }
}

/** The account id in an IAM ARN (`arn:aws:iam::123456789012:role/x`); the placeholder when there is none yet. */
export function accountOf(arn: string | undefined): string {
  return /^arn:aws[\w-]*:iam::(\d{12}):/.exec(arn ?? '')?.[1] ?? PLACEHOLDER_ACCOUNT;
}

/** Both roles with their policies and instance profiles; returns the account id (from a role's ARN). */
export async function ensureRoles(options: ProvisionOptions, names: DeploymentNames): Promise<string> {
  const web = await ensureRole(options, names.webRole);
  const worker = await ensureRole(options, names.workerRole);
  const account = accountOf(web ?? worker);
  const where = { prefix: options.config.resources.prefix, region: options.config.aws.region, account };
  await ensureRolePolicy(options, names.webRole, webPolicy(where));
  await ensureRolePolicy(options, names.workerRole, workerPolicy(where));
  await ensureInstanceProfile(options, names.webRole);
  await ensureInstanceProfile(options, names.workerRole);
  const shipsLogs = options.config.log.shipping === 'cloudwatch';
  for (const role of [names.webRole, names.workerRole]) {
    await ensureManagedPolicy(options, role, SSM_MANAGED_POLICY, 'Session Manager', options.ssm === true);
    await ensureManagedPolicy(options, role, CLOUDWATCH_AGENT_POLICY, 'CloudWatch Logs', shipsLogs);
  }
  return account;
}

/**
 * AWS's policy for Systems Manager's agent (preinstalled on Amazon Linux 2023 and Ubuntu AMIs): with it, `aws ssm
 * start-session --target i-…` opens a shell on an instance with no SSH port open and no key pair, each session
 * logged in CloudTrail (Systems Manager User Guide, "Session Manager").
 */
export const SSM_MANAGED_POLICY = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';

/**
 * An AWS managed policy on the role while `on` (`--ssm`: SSM_MANAGED_POLICY; `--logs`: CLOUDWATCH_AGENT_POLICY),
 * detached again once it is not.
 */
async function ensureManagedPolicy(
  { clients: { iam }, session }: ProvisionOptions,
  RoleName: string,
  PolicyArn: string,
  what: string,
  on: boolean,
) {
  const step = `${what} for ${RoleName}`;
  const attached = await session
    .read(step, iam, new ListAttachedRolePoliciesCommand({ RoleName }))
    .then((r) => (r.AttachedPolicies ?? []).some((p) => p.PolicyArn === PolicyArn))
    .catch(() => false);
  // Off and never on: nothing to say.
  if (!on && !attached) return;
  if (attached === on) {
    session.report(step, 'unchanged', 'on');
    return;
  }
  await session.change(
    step,
    iam,
    on ? new AttachRolePolicyCommand({ RoleName, PolicyArn }) : new DetachRolePolicyCommand({ RoleName, PolicyArn }),
  );
  session.report(step, 'updated', on ? `on (${PolicyArn.split('/').pop()} attached)` : 'off (detached)');
}

/** The role with the EC2 trust policy; returns its ARN (undefined in a dry run that would create it). */
async function ensureRole({ clients: { iam }, session, config }: ProvisionOptions, RoleName: string) {
  const step = `IAM role ${RoleName}`;
  const trust = JSON.stringify(EC2_TRUST_POLICY);
  const found = await session.read(step, iam, new GetRoleCommand({ RoleName })).catch(orMissing);
  if (!found?.Role) {
    const created = await session.change(
      step,
      iam,
      new CreateRoleCommand({
        RoleName,
        AssumeRolePolicyDocument: trust,
        Description: `facefleet ${config.resources.prefix}: ${RoleName.endsWith('-web') ? 'web tier and autoscaler' : 'app-tier workers'}`,
        Tags: [{ Key: DEPLOYMENT_TAG, Value: config.resources.prefix }],
      }),
    );
    session.report(step, 'created', 'trusted by EC2');
    return created.Role?.Arn;
  }
  if (!sameDocument(found.Role.AssumeRolePolicyDocument, EC2_TRUST_POLICY)) {
    await session.change(step, iam, new UpdateAssumeRolePolicyCommand({ RoleName, PolicyDocument: trust }));
    session.report(step, 'updated', 'trust policy reset to EC2 only');
  } else {
    session.report(step, 'unchanged');
  }
  return found.Role.Arn;
}

async function ensureRolePolicy({ clients: { iam }, session }: ProvisionOptions, RoleName: string, policy: object) {
  const step = `IAM policy ${RoleName}`;
  const found = await session
    .read(step, iam, new GetRolePolicyCommand({ RoleName, PolicyName: RoleName }))
    .catch(orMissing);
  if (found && sameDocument(found.PolicyDocument, policy)) {
    session.report(step, 'unchanged');
    return;
  }
  await session.change(
    step,
    iam,
    new PutRolePolicyCommand({ RoleName, PolicyName: RoleName, PolicyDocument: JSON.stringify(policy) }),
  );
  session.report(
    step,
    found ? 'updated' : 'created',
    'least privilege: these buckets, queues and fleet-tagged instances',
  );
}

async function ensureInstanceProfile({ clients: { iam }, session, config }: ProvisionOptions, name: string) {
  const step = `instance profile ${name}`;
  const found = await session
    .read(step, iam, new GetInstanceProfileCommand({ InstanceProfileName: name }))
    .catch(orMissing);
  if (!found?.InstanceProfile) {
    await session.change(
      step,
      iam,
      new CreateInstanceProfileCommand({
        InstanceProfileName: name,
        Tags: [{ Key: DEPLOYMENT_TAG, Value: config.resources.prefix }],
      }),
    );
  }
  const hasRole = found?.InstanceProfile?.Roles?.some((r) => r.RoleName === name) ?? false;
  if (!hasRole) {
    await session.change(step, iam, new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }));
  }
  session.report(step, !found?.InstanceProfile ? 'created' : hasRole ? 'unchanged' : 'updated', `role ${name}`);
}

/** Takes the roles out of the instance profile, then deletes it. */
export async function deleteInstanceProfile({ clients: { iam }, session }: Deployment, name: string) {
  const step = `instance profile ${name}`;
  const found = await session
    .read(step, iam, new GetInstanceProfileCommand({ InstanceProfileName: name }))
    .catch(orMissing);
  if (!found?.InstanceProfile) {
    session.report(step, 'already gone');
    return;
  }
  for (const role of found.InstanceProfile.Roles ?? []) {
    await session.change(
      step,
      iam,
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName: role.RoleName }),
      undefined,
    );
  }
  await session.change(step, iam, new DeleteInstanceProfileCommand({ InstanceProfileName: name }));
  session.report(step, 'deleted');
}

/** Deletes the role's inline policy, then the role. */
export async function deleteRole({ clients: { iam }, session }: Deployment, RoleName: string) {
  const step = `IAM role ${RoleName}`;
  // A role with an inline policy cannot be deleted: the policy goes first.
  await alreadyGone(() => session.change(step, iam, new DeleteRolePolicyCommand({ RoleName, PolicyName: RoleName })));
  // And so must a managed policy (Session Manager's with --ssm, the CloudWatch agent's with --logs).
  for (const PolicyArn of [SSM_MANAGED_POLICY, CLOUDWATCH_AGENT_POLICY]) {
    await alreadyGone(() => session.change(step, iam, new DetachRolePolicyCommand({ RoleName, PolicyArn })));
  }
  const gone = await alreadyGone(() => session.change(step, iam, new DeleteRoleCommand({ RoleName }), undefined));
  session.report(step, gone ? 'already gone' : 'deleted');
}
