/**
 * `npm run aws:provision`: everything the service needs in an AWS account, idempotently. Each step reads
 * what exists first and changes only what differs, so a second run changes nothing and says so:
 * buckets (public access blocked, encrypted), queues (course limits, redrive), IAM roles and instance
 * profiles with least-privilege policies, security groups, and the app-tier launch template.
 */
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
  type GetInstanceProfileCommandOutput,
  type GetRoleCommandOutput,
  type IAMClient,
} from '@aws-sdk/client-iam';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  ModifyLaunchTemplateCommand,
  RevokeSecurityGroupIngressCommand,
  type DescribeLaunchTemplatesCommandOutput,
  type DescribeLaunchTemplateVersionsCommandOutput,
  type DescribeSecurityGroupsCommandOutput,
  type DescribeVpcsCommandOutput,
  type EC2Client,
  type IpPermission,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import {
  CreateBucketCommand,
  DeleteBucketLifecycleCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutPublicAccessBlockCommand,
  type GetBucketEncryptionCommandOutput,
  type GetBucketLifecycleConfigurationCommandOutput,
  type LifecycleRule,
  type GetPublicAccessBlockCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type GetQueueAttributesCommandOutput,
  type GetQueueUrlCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { renderWorkerUserData } from '../../../src/autoscaler/user-data.js';
import { isNotFound } from '../../../src/shared/aws.js';
import type { Config } from '../../../src/shared/config.js';
import { queueAttributes, RETENTION_RULE_ID, retentionRules } from '../../../src/shared/resources.js';
import { deploymentNames, EC2_TRUST_POLICY, webPolicy, workerPolicy, type DeploymentNames } from './policies.js';
import { DeployError, orMissing, type Session } from './session.js';

/** Marks everything provisioning creates, so that a person browsing the console sees where it came from. */
export const DEPLOYMENT_TAG = 'facefleet:deployment';
/** The port of the web tier, the course contract. */
export const WEB_PORT = 8000;
/** Stand-ins a dry run prints where AWS would have assigned an id. */
export const PLACEHOLDER_ACCOUNT = 'ACCOUNT';

export interface AwsClients {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly iam: IAMClient;
  readonly ec2: EC2Client;
}

export interface ProvisionOptions {
  /** The deployment's configuration (FACEFLEET_STACK=aws, its region and prefix). */
  readonly config: Config;
  readonly clients: AwsClients;
  readonly session: Session;
  /** Who may reach the web tier's port 8000, as a CIDR (e.g. 203.0.113.7/32). */
  readonly allowCidr: string;
  /** The baked app-tier AMI; without it the launch template waits for a later run. */
  readonly amiId?: string;
  readonly instanceType: string;
  /** Default: the region's default VPC. */
  readonly vpcId?: string;
}

export interface Provisioned {
  readonly names: DeploymentNames;
  readonly account: string;
  readonly queueUrls: { request: string; response: string; deadLetter: string };
  readonly vpcId: string;
  readonly webSecurityGroupId: string;
  readonly workerSecurityGroupId: string;
  readonly launchTemplateId: string | undefined;
}

export async function provision(o: ProvisionOptions): Promise<Provisioned> {
  const names = deploymentNames(o.config.resources.prefix);
  const expiring = new Map(retentionRules(names).map((r) => [r.bucket as string, r.prefix as string]));
  for (const bucket of [names.inBucket, names.outBucket, names.galleryBucket]) {
    await ensureBucket(o, bucket, expiring.get(bucket));
  }
  const queueUrls = await ensureQueues(o, names);
  const account = await ensureRoles(o, names);
  const vpcId = o.vpcId ?? (await defaultVpc(o));
  const webSecurityGroupId = await ensureSecurityGroup(o, names.webSecurityGroup, vpcId, [
    { IpProtocol: 'tcp', FromPort: WEB_PORT, ToPort: WEB_PORT, IpRanges: [{ CidrIp: o.allowCidr }] },
  ]);
  const workerSecurityGroupId = await ensureSecurityGroup(o, names.workerSecurityGroup, vpcId, []);
  let launchTemplateId: string | undefined;
  if (o.amiId) {
    launchTemplateId = await ensureLaunchTemplate(o, names, o.amiId, workerSecurityGroupId);
  } else {
    o.session.report(
      `launch template ${names.launchTemplate}`,
      'unchanged',
      'skipped: no --ami yet (bake the app-tier AMI, then run again with --ami ami-…)',
    );
  }
  return { names, account, queueUrls, vpcId, webSecurityGroupId, workerSecurityGroupId, launchTemplateId };
}

/** `expiringPrefix`: what RETENTION_DAYS expires in this bucket (see retentionRules); undefined: nothing. */
async function ensureBucket(
  { clients: { s3 }, session, config }: ProvisionOptions,
  Bucket: string,
  expiringPrefix: string | undefined,
) {
  const step = `bucket ${Bucket}`;
  let exists = true;
  try {
    await session.read(step, s3, new HeadBucketCommand({ Bucket }));
  } catch (err) {
    const cause = (err as DeployError).cause as { $metadata?: { httpStatusCode?: number } } | undefined;
    if (cause?.$metadata?.httpStatusCode === 403) {
      throw new DeployError(
        `${step}: S3 answers 403 Forbidden. Bucket names are global: another AWS account may own this one ` +
          `(choose another --prefix), or the credentials lack s3:ListBucket on it.`,
        step,
        { cause },
      );
    }
    if (!isNotFound(cause)) throw err;
    exists = false;
  }
  if (!exists) {
    const region = config.aws.region;
    await session.change(
      step,
      s3,
      new CreateBucketCommand({
        Bucket,
        // us-east-1 is the one region that rejects an explicit LocationConstraint.
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
      }),
      undefined,
    );
  }
  const changes: string[] = [];
  const block = exists
    ? await session
        .read<GetPublicAccessBlockCommandOutput>(step, s3, new GetPublicAccessBlockCommand({ Bucket }))
        .catch(orMissing)
    : undefined;
  const c = block?.PublicAccessBlockConfiguration;
  if (!(c?.BlockPublicAcls && c.IgnorePublicAcls && c.BlockPublicPolicy && c.RestrictPublicBuckets)) {
    await session.change(
      step,
      s3,
      new PutPublicAccessBlockCommand({
        Bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: true,
        },
      }),
      undefined,
    );
    changes.push('public access blocked');
  }
  const encryption = exists
    ? await session
        .read<GetBucketEncryptionCommandOutput>(step, s3, new GetBucketEncryptionCommand({ Bucket }))
        .catch(orMissing)
    : undefined;
  if (!encryption?.ServerSideEncryptionConfiguration?.Rules?.length) {
    await session.change(
      step,
      s3,
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      }),
      undefined,
    );
    changes.push('default encryption on');
  }
  const retention = await ensureRetention(s3, session, step, Bucket, exists, {
    prefix: expiringPrefix,
    // S3 lifecycle rules count whole days.
    days: config.retention.days === undefined ? undefined : Math.max(1, Math.ceil(config.retention.days)),
  });
  if (retention) changes.push(retention);
  if (!exists)
    session.report(
      step,
      'created',
      ['public access blocked, encrypted (SSE-S3)', retention].filter(Boolean).join(', '),
    );
  else session.report(step, changes.length ? 'updated' : 'unchanged', changes.join(', ') || undefined);
}

/**
 * Our lifecycle rule (RETENTION_RULE_ID) on a bucket: objects under `prefix` expire after `days`; no rule when
 * either is undefined. Rules of anyone else on the bucket are kept. Returns what changed, if anything.
 */
async function ensureRetention(
  s3: S3Client,
  session: Session,
  step: string,
  Bucket: string,
  exists: boolean,
  want: { prefix: string | undefined; days: number | undefined },
): Promise<string | undefined> {
  const current = exists
    ? await session
        .read<GetBucketLifecycleConfigurationCommandOutput>(
          step,
          s3,
          new GetBucketLifecycleConfigurationCommand({ Bucket }),
        )
        .catch(orMissing)
    : undefined;
  const rules = current?.Rules ?? [];
  const ours = rules.find((r) => r.ID === RETENTION_RULE_ID);
  const others = rules.filter((r) => r.ID !== RETENTION_RULE_ID);
  const desired: LifecycleRule | undefined =
    want.prefix === undefined || want.days === undefined
      ? undefined
      : { ID: RETENTION_RULE_ID, Status: 'Enabled', Filter: { Prefix: want.prefix }, Expiration: { Days: want.days } };
  const same =
    desired && ours
      ? ours.Status === 'Enabled' && (ours.Filter?.Prefix ?? '') === want.prefix && ours.Expiration?.Days === want.days
      : !desired && !ours;
  if (same) return undefined;
  if (desired) {
    await session.change(
      step,
      s3,
      new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [...others, desired] } }),
      undefined,
    );
    return `${want.prefix ? `${want.prefix}* ` : 'objects '}expire after ${want.days} day(s)`;
  }
  await session.change(
    step,
    s3,
    others.length > 0
      ? new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: others } })
      : new DeleteBucketLifecycleCommand({ Bucket }),
    undefined,
  );
  return 'retention rule removed';
}

async function ensureQueues(o: ProvisionOptions, names: DeploymentNames) {
  const deadLetter = await ensureQueue(o, names.deadLetterQueue, queueAttributes(o.config, '').deadLetter);
  const dlqArn =
    o.session.dryRun && deadLetter.created
      ? `arn:aws:sqs:${o.config.aws.region}:${PLACEHOLDER_ACCOUNT}:${names.deadLetterQueue}`
      : (
          await o.session.read<GetQueueAttributesCommandOutput>(
            `queue ${names.deadLetterQueue}`,
            o.clients.sqs,
            new GetQueueAttributesCommand({ QueueUrl: deadLetter.url, AttributeNames: ['QueueArn'] }),
          )
        ).Attributes?.['QueueArn'];
  if (!dlqArn) throw new DeployError(`queue ${names.deadLetterQueue}: it has no QueueArn`, 'queues');
  const attributes = queueAttributes(o.config, dlqArn);
  const request = await ensureQueue(o, names.requestQueue, attributes.request);
  const response = await ensureQueue(o, names.responseQueue, attributes.response);
  return { request: request.url, response: response.url, deadLetter: deadLetter.url };
}

async function ensureQueue(
  { clients: { sqs }, session }: ProvisionOptions,
  QueueName: string,
  desired: Record<string, string>,
): Promise<{ url: string; created: boolean }> {
  const step = `queue ${QueueName}`;
  const found = await session
    .read<GetQueueUrlCommandOutput>(step, sqs, new GetQueueUrlCommand({ QueueName }))
    .catch(orMissing);
  if (!found?.QueueUrl) {
    const created = await session.change(step, sqs, new CreateQueueCommand({ QueueName, Attributes: desired }), {
      QueueUrl: `https://sqs.example/${PLACEHOLDER_ACCOUNT}/${QueueName}`,
    });
    session.report(step, 'created', describeAttributes(desired));
    return { url: created.QueueUrl!, created: true };
  }
  const { Attributes = {} } = await session.read<GetQueueAttributesCommandOutput>(
    step,
    sqs,
    new GetQueueAttributesCommand({ QueueUrl: found.QueueUrl, AttributeNames: ['All'] }),
  );
  const current: Record<string, string | undefined> = Attributes;
  const differing = Object.fromEntries(Object.entries(desired).filter(([k, v]) => !sameAttribute(k, current[k], v)));
  if (Object.keys(differing).length > 0) {
    await session.change(
      step,
      sqs,
      new SetQueueAttributesCommand({ QueueUrl: found.QueueUrl, Attributes: differing }),
      undefined,
    );
    session.report(step, 'updated', describeAttributes(differing));
  } else {
    session.report(step, 'unchanged');
  }
  return { url: found.QueueUrl, created: false };
}

/** A redrive policy comes back as JSON with its own spacing and number types; compare it parsed. */
function sameAttribute(name: string, actual: string | undefined, desired: string): boolean {
  if (actual === undefined) return false;
  if (name !== 'RedrivePolicy') return actual === desired;
  const a = JSON.parse(actual) as Record<string, unknown>;
  const d = JSON.parse(desired) as Record<string, unknown>;
  return a['deadLetterTargetArn'] === d['deadLetterTargetArn'] && Number(a['maxReceiveCount']) === d['maxReceiveCount'];
}

function describeAttributes(attributes: Record<string, string>): string {
  return Object.entries(attributes)
    .map(([k, v]) => (k === 'RedrivePolicy' ? `${k} maxReceiveCount ${JSON.parse(v).maxReceiveCount}` : `${k} ${v}`))
    .join(', ');
}

/** Both roles with their policies and instance profiles; returns the account id (from a role's ARN). */
async function ensureRoles(o: ProvisionOptions, names: DeploymentNames): Promise<string> {
  const web = await ensureRole(o, names.webRole);
  const worker = await ensureRole(o, names.workerRole);
  const account = /^arn:aws[\w-]*:iam::(\d{12}):/.exec(web ?? worker ?? '')?.[1] ?? PLACEHOLDER_ACCOUNT;
  const where = { prefix: o.config.resources.prefix, region: o.config.aws.region, account };
  await ensureRolePolicy(o, names.webRole, webPolicy(where));
  await ensureRolePolicy(o, names.workerRole, workerPolicy(where));
  await ensureInstanceProfile(o, names.webRole);
  await ensureInstanceProfile(o, names.workerRole);
  return account;
}

/** The role with the EC2 trust policy; returns its ARN (undefined in a dry run that would create it). */
async function ensureRole({ clients: { iam }, session, config }: ProvisionOptions, RoleName: string) {
  const step = `IAM role ${RoleName}`;
  const trust = JSON.stringify(EC2_TRUST_POLICY);
  const found = await session.read<GetRoleCommandOutput>(step, iam, new GetRoleCommand({ RoleName })).catch(orMissing);
  if (!found?.Role) {
    const created = await session.change<{ Role?: { Arn?: string } }>(
      step,
      iam,
      new CreateRoleCommand({
        RoleName,
        AssumeRolePolicyDocument: trust,
        Description: `facefleet ${config.resources.prefix}: ${RoleName.endsWith('-web') ? 'web tier and autoscaler' : 'app-tier workers'}`,
        Tags: [{ Key: DEPLOYMENT_TAG, Value: config.resources.prefix }],
      }),
      {},
    );
    session.report(step, 'created', 'trusted by EC2');
    return created.Role?.Arn;
  }
  if (!sameDocument(found.Role.AssumeRolePolicyDocument, EC2_TRUST_POLICY)) {
    await session.change(step, iam, new UpdateAssumeRolePolicyCommand({ RoleName, PolicyDocument: trust }), undefined);
    session.report(step, 'updated', 'trust policy reset to EC2 only');
  } else {
    session.report(step, 'unchanged');
  }
  return found.Role.Arn;
}

async function ensureRolePolicy({ clients: { iam }, session }: ProvisionOptions, RoleName: string, policy: object) {
  const step = `IAM policy ${RoleName}`;
  const found = await session
    .read<{ PolicyDocument?: string }>(step, iam, new GetRolePolicyCommand({ RoleName, PolicyName: RoleName }))
    .catch(orMissing);
  if (found && sameDocument(found.PolicyDocument, policy)) {
    session.report(step, 'unchanged');
    return;
  }
  await session.change(
    step,
    iam,
    new PutRolePolicyCommand({ RoleName, PolicyName: RoleName, PolicyDocument: JSON.stringify(policy) }),
    undefined,
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
    .read<GetInstanceProfileCommandOutput>(step, iam, new GetInstanceProfileCommand({ InstanceProfileName: name }))
    .catch(orMissing);
  if (!found?.InstanceProfile) {
    await session.change(
      step,
      iam,
      new CreateInstanceProfileCommand({
        InstanceProfileName: name,
        Tags: [{ Key: DEPLOYMENT_TAG, Value: config.resources.prefix }],
      }),
      undefined,
    );
  }
  const hasRole = found?.InstanceProfile?.Roles?.some((r) => r.RoleName === name) ?? false;
  if (!hasRole) {
    await session.change(
      step,
      iam,
      new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }),
      undefined,
    );
  }
  session.report(step, !found?.InstanceProfile ? 'created' : hasRole ? 'unchanged' : 'updated', `role ${name}`);
}

async function defaultVpc({ clients: { ec2 }, session, config }: ProvisionOptions): Promise<string> {
  const { Vpcs = [] } = await session.read<DescribeVpcsCommandOutput>(
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

/** A security group whose inbound rules are exactly `ingress` (none for the workers); outbound stays open. */
async function ensureSecurityGroup(
  { clients: { ec2 }, session, config }: ProvisionOptions,
  GroupName: string,
  vpcId: string,
  ingress: IpPermission[],
): Promise<string> {
  const step = `security group ${GroupName}`;
  const { SecurityGroups = [] } = await session.read<DescribeSecurityGroupsCommandOutput>(
    step,
    ec2,
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'group-name', Values: [GroupName] },
        { Name: 'vpc-id', Values: [vpcId] },
      ],
    }),
  );
  let group = SecurityGroups[0];
  const describe = ingress.length ? `in: tcp ${WEB_PORT} from ${ingress[0]!.IpRanges![0]!.CidrIp}` : 'nothing in';
  if (!group) {
    const created = await session.change(
      step,
      ec2,
      new CreateSecurityGroupCommand({
        GroupName,
        VpcId: vpcId,
        Description: `facefleet ${config.resources.prefix}: ${describe}`,
        TagSpecifications: [
          { ResourceType: 'security-group', Tags: [{ Key: DEPLOYMENT_TAG, Value: config.resources.prefix }] },
        ],
      }),
      { GroupId: `sg-for-${GroupName}` },
    );
    group = { GroupId: created.GroupId, IpPermissions: [] };
  }
  const groupId = group.GroupId!;
  const have = group.IpPermissions ?? [];
  const key = (p: IpPermission) =>
    (p.IpRanges ?? []).map((r) => `${p.IpProtocol}:${p.FromPort}:${p.ToPort}:${r.CidrIp}`).join('|') ||
    `${p.IpProtocol}:${p.FromPort}:${p.ToPort}:other`;
  const wanted = new Set(ingress.map(key));
  const extra = have.filter((p) => !wanted.has(key(p)));
  const missing = ingress.filter((p) => !have.some((h) => key(h) === key(p)));
  if (extra.length) {
    await session.change(
      step,
      ec2,
      new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: extra }),
      undefined,
    );
  }
  if (missing.length) {
    await session.change(
      step,
      ec2,
      new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: missing }),
      undefined,
    );
  }
  const outcome = SecurityGroups[0] ? (extra.length || missing.length ? 'updated' : 'unchanged') : 'created';
  session.report(step, outcome, `${groupId}, ${describe}`);
  return groupId;
}

async function ensureLaunchTemplate(
  o: ProvisionOptions,
  names: DeploymentNames,
  amiId: string,
  workerSecurityGroupId: string,
): Promise<string> {
  const { ec2 } = o.clients;
  const { session } = o;
  const step = `launch template ${names.launchTemplate}`;
  const data: RequestLaunchTemplateData = {
    ImageId: amiId,
    InstanceType: o.instanceType as never,
    IamInstanceProfile: { Name: names.workerRole },
    SecurityGroupIds: [workerSecurityGroupId],
    UserData: Buffer.from(renderWorkerUserData(o.config)).toString('base64'),
    // IMDSv2 only: the instance role's credentials are not reachable by a plain GET from a confused process.
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
  };
  const found = await session
    .read<DescribeLaunchTemplatesCommandOutput>(
      step,
      ec2,
      new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [names.launchTemplate] }),
    )
    .catch(orMissing);
  const existing = found?.LaunchTemplates?.[0];
  if (!existing?.LaunchTemplateId) {
    const created = await session.change(
      step,
      ec2,
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: names.launchTemplate,
        LaunchTemplateData: data,
        TagSpecifications: [
          { ResourceType: 'launch-template', Tags: [{ Key: DEPLOYMENT_TAG, Value: o.config.resources.prefix }] },
        ],
      }),
      { LaunchTemplate: { LaunchTemplateId: 'lt-would-be-created' } },
    );
    const id = created.LaunchTemplate!.LaunchTemplateId!;
    session.report(step, 'created', `${id}: ${amiId}, ${o.instanceType}`);
    return id;
  }
  const id = existing.LaunchTemplateId;
  const { LaunchTemplateVersions = [] } = await session.read<DescribeLaunchTemplateVersionsCommandOutput>(
    step,
    ec2,
    new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['$Default'] }),
  );
  const current = LaunchTemplateVersions[0]?.LaunchTemplateData;
  const same =
    current?.ImageId === data.ImageId &&
    current?.InstanceType === data.InstanceType &&
    current?.IamInstanceProfile?.Name === data.IamInstanceProfile?.Name &&
    JSON.stringify(current?.SecurityGroupIds ?? []) === JSON.stringify(data.SecurityGroupIds) &&
    current?.UserData === data.UserData &&
    current?.MetadataOptions?.HttpTokens === 'required';
  if (same) {
    session.report(step, 'unchanged', id);
    return id;
  }
  const version = await session.change(
    step,
    ec2,
    new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: data }),
    { LaunchTemplateVersion: { VersionNumber: 0 } },
  );
  await session.change(
    step,
    ec2,
    new ModifyLaunchTemplateCommand({
      LaunchTemplateId: id,
      DefaultVersion: String(version.LaunchTemplateVersion?.VersionNumber),
    }),
    undefined,
  );
  session.report(step, 'updated', `${id}: new default version (${amiId}, ${o.instanceType})`);
  return id;
}

/** Policy documents come back URL-encoded from IAM; compare them parsed. */
function sameDocument(stored: string | undefined, desired: object): boolean {
  if (!stored) return false;
  try {
    return JSON.stringify(JSON.parse(decodeURIComponent(stored))) === JSON.stringify(desired);
  } catch {
    return false;
  }
}
