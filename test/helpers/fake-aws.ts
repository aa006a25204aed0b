/**
 * A small in-memory AWS account for the deployment tests: IAM and EC2 (which have no local emulator) behind
 * aws-sdk-client-mock, answering as AWS does (state kept between calls, AWS's error names for missing things);
 * and a recorder on real S3/SQS/DynamoDB clients (talking to fauxqs and dynalite) that also answers the bucket
 * settings fauxqs does not implement (public access block, default encryption, lifecycle, notifications). Every call lands in one ordered log.
 */
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  DeleteLaunchTemplateCommand,
  DeleteSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyLaunchTemplateCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Filter,
  type Instance,
  type IpPermission,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

export const ACCOUNT = '123456789012';

export function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $fault: 'client' });
}

export function fakeAccount() {
  const log: string[] = [];
  const iam = mockClient(IAMClient);
  const ec2 = mockClient(EC2Client);
  const roles = new Map<string, { Arn: string; trust: string }>();
  const policies = new Map<string, string>();
  const profiles = new Map<string, string[]>();
  const groups = new Map<
    string,
    { GroupId: string; GroupName: string; VpcId: string; IpPermissions: IpPermission[] }
  >();
  const templates = new Map<string, { id: string; versions: RequestLaunchTemplateData[]; defaultVersion: number }>();
  const instances: Instance[] = [];
  let nextId = 1;
  /** Failures to answer the next call of an operation with, as AWS would (denied, throttled). */
  const failures = new Map<string, Error>();

  const on = <I>(
    client: typeof iam | typeof ec2,
    command: new (...args: never[]) => { readonly input: I },
    handler: (input: I) => unknown,
  ) => {
    const operation = command.name.replace(/Command$/, '');
    (client.on as (c: unknown) => { callsFake(f: (input: I) => unknown): void })(command).callsFake(async (input) => {
      log.push(operation);
      const failure = failures.get(operation);
      if (failure) {
        failures.delete(operation);
        throw failure;
      }
      return handler(input);
    });
  };
  const noSuchEntity = (what: string) => awsError('NoSuchEntity', 404, `${what} cannot be found`);

  on(iam, GetRoleCommand, ({ RoleName }) => {
    const role = roles.get(RoleName!);
    if (!role) throw noSuchEntity(`role ${RoleName}`);
    return { Role: { RoleName, Arn: role.Arn, AssumeRolePolicyDocument: encodeURIComponent(role.trust) } };
  });
  on(iam, CreateRoleCommand, ({ RoleName, AssumeRolePolicyDocument }) => {
    const Arn = `arn:aws:iam::${ACCOUNT}:role/${RoleName}`;
    roles.set(RoleName!, { Arn, trust: AssumeRolePolicyDocument! });
    return { Role: { RoleName, Arn } };
  });
  on(iam, UpdateAssumeRolePolicyCommand, ({ RoleName, PolicyDocument }) => {
    roles.get(RoleName!)!.trust = PolicyDocument!;
    return {};
  });
  on(iam, GetRolePolicyCommand, ({ RoleName }) => {
    const doc = policies.get(RoleName!);
    if (!doc) throw noSuchEntity(`policy of ${RoleName}`);
    return { PolicyDocument: encodeURIComponent(doc) };
  });
  on(iam, PutRolePolicyCommand, ({ RoleName, PolicyDocument }) => {
    policies.set(RoleName!, PolicyDocument!);
    return {};
  });
  on(iam, DeleteRolePolicyCommand, ({ RoleName }) => {
    if (!policies.delete(RoleName!)) throw noSuchEntity(`policy of ${RoleName}`);
    return {};
  });
  on(iam, DeleteRoleCommand, ({ RoleName }) => {
    if (!roles.has(RoleName!)) throw noSuchEntity(`role ${RoleName}`);
    if (policies.has(RoleName!) || [...profiles.values()].some((r) => r.includes(RoleName!))) {
      throw awsError('DeleteConflict', 409, 'Cannot delete entity, must remove policies and profiles first.');
    }
    roles.delete(RoleName!);
    return {};
  });
  on(iam, GetInstanceProfileCommand, ({ InstanceProfileName }) => {
    const attached = profiles.get(InstanceProfileName!);
    if (!attached) throw noSuchEntity(`instance profile ${InstanceProfileName}`);
    return { InstanceProfile: { InstanceProfileName, Roles: attached.map((RoleName) => ({ RoleName })) } };
  });
  on(iam, CreateInstanceProfileCommand, ({ InstanceProfileName }) => {
    profiles.set(InstanceProfileName!, []);
    return {};
  });
  on(iam, AddRoleToInstanceProfileCommand, ({ InstanceProfileName, RoleName }) => {
    profiles.get(InstanceProfileName!)!.push(RoleName!);
    return {};
  });
  on(iam, RemoveRoleFromInstanceProfileCommand, ({ InstanceProfileName, RoleName }) => {
    profiles.set(
      InstanceProfileName!,
      profiles.get(InstanceProfileName!)!.filter((r) => r !== RoleName),
    );
    return {};
  });
  on(iam, DeleteInstanceProfileCommand, ({ InstanceProfileName }) => {
    if (!profiles.delete(InstanceProfileName!)) throw noSuchEntity(`instance profile ${InstanceProfileName}`);
    return {};
  });

  on(ec2, DescribeVpcsCommand, () => ({ Vpcs: [{ VpcId: 'vpc-default', IsDefault: true }] }));
  // A default VPC's subnets: one per availability zone.
  on(ec2, DescribeSubnetsCommand, () => ({
    Subnets: ['a', 'b', 'c'].map((z) => ({
      SubnetId: `subnet-${z}`,
      AvailabilityZone: `us-east-1${z}`,
      VpcId: 'vpc-default',
    })),
  }));
  on(ec2, DescribeSecurityGroupsCommand, ({ Filters = [] }) => ({
    SecurityGroups: [...groups.values()].filter(
      (g) => matches(Filters, 'group-name', g.GroupName) && matches(Filters, 'vpc-id', g.VpcId),
    ),
  }));
  on(ec2, CreateSecurityGroupCommand, ({ GroupName, VpcId }) => {
    const GroupId = `sg-${String(nextId++).padStart(8, '0')}`;
    groups.set(GroupId, { GroupId, GroupName: GroupName!, VpcId: VpcId!, IpPermissions: [] });
    return { GroupId };
  });
  on(ec2, AuthorizeSecurityGroupIngressCommand, ({ GroupId, IpPermissions = [] }) => {
    groups.get(GroupId!)!.IpPermissions.push(...IpPermissions);
    return {};
  });
  on(ec2, RevokeSecurityGroupIngressCommand, ({ GroupId, IpPermissions = [] }) => {
    const g = groups.get(GroupId!)!;
    g.IpPermissions = g.IpPermissions.filter(
      (p) => !IpPermissions.some((r) => JSON.stringify(r) === JSON.stringify(p)),
    );
    return {};
  });
  on(ec2, DeleteSecurityGroupCommand, ({ GroupId }) => {
    if (!groups.delete(GroupId!)) throw awsError('InvalidGroup.NotFound', 400);
    return {};
  });
  on(ec2, DescribeLaunchTemplatesCommand, ({ LaunchTemplateNames = [] }) => {
    const found = LaunchTemplateNames.flatMap((n) => {
      const t = templates.get(n);
      return t ? [{ LaunchTemplateName: n, LaunchTemplateId: t.id }] : [];
    });
    if (found.length < LaunchTemplateNames.length) {
      throw awsError('InvalidLaunchTemplateName.NotFoundException', 400, 'not found');
    }
    return { LaunchTemplates: found };
  });
  on(ec2, CreateLaunchTemplateCommand, ({ LaunchTemplateName, LaunchTemplateData }) => {
    const id = `lt-${String(nextId++).padStart(17, '0')}`;
    templates.set(LaunchTemplateName!, { id, versions: [LaunchTemplateData!], defaultVersion: 1 });
    return { LaunchTemplate: { LaunchTemplateId: id, LaunchTemplateName } };
  });
  const templateOf = (id?: string, name?: string) =>
    [...templates.entries()].find(([n, t]) => t.id === id || n === name);
  on(ec2, DescribeLaunchTemplateVersionsCommand, ({ LaunchTemplateId, LaunchTemplateName }) => {
    const entry = templateOf(LaunchTemplateId, LaunchTemplateName);
    if (!entry) throw awsError('InvalidLaunchTemplateId.NotFound', 400);
    const t = entry[1];
    return { LaunchTemplateVersions: [{ LaunchTemplateData: t.versions[t.defaultVersion - 1] }] };
  });
  on(ec2, CreateLaunchTemplateVersionCommand, ({ LaunchTemplateId, LaunchTemplateData }) => {
    const t = templateOf(LaunchTemplateId)![1];
    t.versions.push(LaunchTemplateData!);
    return { LaunchTemplateVersion: { VersionNumber: t.versions.length } };
  });
  on(ec2, ModifyLaunchTemplateCommand, ({ LaunchTemplateId, DefaultVersion }) => {
    templateOf(LaunchTemplateId)![1].defaultVersion = Number(DefaultVersion);
    return {};
  });
  on(ec2, DeleteLaunchTemplateCommand, ({ LaunchTemplateName }) => {
    if (!templates.delete(LaunchTemplateName!)) throw awsError('InvalidLaunchTemplateName.NotFoundException', 400);
    return {};
  });
  on(ec2, DescribeInstancesCommand, ({ Filters = [], InstanceIds }) => ({
    Reservations: [
      {
        Instances: instances.filter(
          (i) =>
            (!InstanceIds || InstanceIds.includes(i.InstanceId!)) &&
            matches(Filters, 'instance-state-name', i.State!.Name!) &&
            Filters.filter((f) => f.Name?.startsWith('tag:')).every((f) =>
              i.Tags?.some((t) => `tag:${t.Key}` === f.Name && f.Values!.includes(t.Value!)),
            ),
        ),
      },
    ],
  }));
  on(ec2, RunInstancesCommand, ({ TagSpecifications = [], ImageId }) => {
    const instance: Instance = {
      InstanceId: `i-${String(nextId++).padStart(17, '0')}`,
      ImageId,
      State: { Name: 'running' },
      PublicIpAddress: '198.51.100.7',
      Tags: TagSpecifications.flatMap((s) => s.Tags ?? []),
    };
    instances.push(instance);
    return { Instances: [instance] };
  });
  on(ec2, StopInstancesCommand, ({ InstanceIds = [] }) => {
    for (const i of instances) if (InstanceIds.includes(i.InstanceId!)) i.State = { Name: 'stopped' };
    return {};
  });
  on(ec2, TerminateInstancesCommand, ({ InstanceIds = [] }) => {
    for (const i of instances) if (InstanceIds.includes(i.InstanceId!)) i.State = { Name: 'terminated' };
    return {};
  });

  const failNext = (operation: string, error: Error) => failures.set(operation, error);
  return { log, iam, ec2, roles, policies, profiles, groups, templates, instances, failNext };
}

function matches(filters: Filter[], name: string, value: string): boolean {
  const f = filters.find((x) => x.Name === name);
  return !f || f.Values!.includes(value);
}

/**
 * Records every S3/SQS call of a real client into `log`, and answers the bucket settings fauxqs lacks from
 * memory (as S3 would: "not found" until set).
 */
export function recordCalls(client: S3Client | SQSClient | DynamoDBClient, log: string[]): void {
  const settings = new Map<string, unknown>();
  const fauxqsLacks: Record<string, (input: { Bucket: string }) => unknown> = {
    PutPublicAccessBlockCommand: (input) => settings.set(`block:${input.Bucket}`, input) && {},
    GetPublicAccessBlockCommand: (input) => {
      const stored = settings.get(`block:${input.Bucket}`) as { PublicAccessBlockConfiguration: unknown } | undefined;
      if (!stored) throw awsError('NoSuchPublicAccessBlockConfiguration', 404);
      return { PublicAccessBlockConfiguration: stored.PublicAccessBlockConfiguration };
    },
    PutBucketLifecycleConfigurationCommand: (input) => settings.set(`lifecycle:${input.Bucket}`, input) && {},
    GetBucketLifecycleConfigurationCommand: (input) => {
      const stored = settings.get(`lifecycle:${input.Bucket}`) as
        { LifecycleConfiguration: { Rules: unknown } } | undefined;
      if (!stored) throw awsError('NoSuchLifecycleConfiguration', 404);
      return { Rules: stored.LifecycleConfiguration.Rules };
    },
    DeleteBucketLifecycleCommand: (input) => settings.delete(`lifecycle:${input.Bucket}`) && {},
    PutBucketNotificationConfigurationCommand: (input) => settings.set(`notification:${input.Bucket}`, input) && {},
    // S3 answers an empty configuration for a bucket without notifications.
    GetBucketNotificationConfigurationCommand: (input) =>
      (settings.get(`notification:${input.Bucket}`) as { NotificationConfiguration: object } | undefined)
        ?.NotificationConfiguration ?? {},
    PutBucketEncryptionCommand: (input) => settings.set(`sse:${input.Bucket}`, input) && {},
    GetBucketEncryptionCommand: (input) => {
      const stored = settings.get(`sse:${input.Bucket}`) as { ServerSideEncryptionConfiguration: unknown } | undefined;
      if (!stored) throw awsError('ServerSideEncryptionConfigurationNotFoundError', 404);
      return { ServerSideEncryptionConfiguration: stored.ServerSideEncryptionConfiguration };
    },
  };
  (client.middlewareStack as S3Client['middlewareStack']).add(
    (next, context) => async (args) => {
      const name = String(context.commandName);
      log.push(name.replace(/Command$/, ''));
      const fake = fauxqsLacks[name];
      if (fake)
        return { output: { $metadata: {}, ...(fake(args.input as { Bucket: string }) as object) }, response: {} };
      return next(args);
    },
    { step: 'initialize', name: 'recordCalls' },
  );
}
