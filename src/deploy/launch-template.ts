/**
 * The app tier's launch template: the baked AMI, the instance type, the worker role's instance profile, the
 * workers' security group, IMDSv2 only, and the worker user data rendered from this deployment's config. A
 * change makes a new default version; an unchanged template is left alone.
 */
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  ModifyLaunchTemplateCommand,
  type ResponseLaunchTemplateData,
  type RequestLaunchTemplateData,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { renderWorkerUserData } from '../autoscaler/user-data.js';
import type { Config } from '../shared/config/config.js';
import { DEPLOYMENT_TAG, type DeploymentNames } from './names.js';
import type { ProvisionOptions } from './provision.js';
import { alreadyGone, DeployError, orMissing, type Deployment } from './session.js';

/** What the app tier's instances are launched with. */
export function workerLaunchData(options: {
  config: Config;
  names: DeploymentNames;
  amiId: string;
  instanceType: string;
  securityGroupId: string;
}): RequestLaunchTemplateData {
  return {
    ImageId: options.amiId,
    InstanceType: options.instanceType as _InstanceType,
    IamInstanceProfile: { Name: options.names.workerRole },
    SecurityGroupIds: [options.securityGroupId],
    UserData: Buffer.from(renderWorkerUserData(options.config)).toString('base64'),
    // IMDSv2 only: the instance role's credentials are not reachable by a plain GET from a confused process.
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
  };
}

/** Whether the template's default version already launches what `desired` describes. */
export function sameLaunchData(current: ResponseLaunchTemplateData | undefined, desired: RequestLaunchTemplateData) {
  return (
    current?.ImageId === desired.ImageId &&
    current?.InstanceType === desired.InstanceType &&
    current?.IamInstanceProfile?.Name === desired.IamInstanceProfile?.Name &&
    JSON.stringify(current?.SecurityGroupIds ?? []) === JSON.stringify(desired.SecurityGroupIds) &&
    current?.UserData === desired.UserData &&
    current?.MetadataOptions?.HttpTokens === 'required'
  );
}

export async function ensureLaunchTemplate(
  options: ProvisionOptions,
  names: DeploymentNames,
  amiId: string,
  workerSecurityGroupId: string,
): Promise<string> {
  const data = workerLaunchData({
    config: options.config,
    names,
    amiId,
    instanceType: options.instanceType,
    securityGroupId: workerSecurityGroupId,
  });
  return ensureNamedLaunchTemplate(options, names.launchTemplate, data, `${amiId}, ${options.instanceType}`);
}

/** A launch template whose default version launches `data`; returns its id. */
export async function ensureNamedLaunchTemplate(
  options: Pick<ProvisionOptions, 'clients' | 'session' | 'config'>,
  name: string,
  data: RequestLaunchTemplateData,
  summary: string,
): Promise<string> {
  const { ec2 } = options.clients;
  const { session } = options;
  const step = `launch template ${name}`;
  const found = await session
    .read(step, ec2, new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [name] }))
    .catch(orMissing);
  const id = found?.LaunchTemplates?.[0]?.LaunchTemplateId;
  if (!id) {
    const created = await session.change(
      step,
      ec2,
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        LaunchTemplateData: data,
        TagSpecifications: [
          { ResourceType: 'launch-template', Tags: [{ Key: DEPLOYMENT_TAG, Value: options.config.resources.prefix }] },
        ],
      }),
      { LaunchTemplate: { LaunchTemplateId: 'lt-would-be-created' } },
    );
    const createdId = created.LaunchTemplate?.LaunchTemplateId;
    if (!createdId) throw new DeployError(`${step}: EC2 returned no launch template id`, step);
    session.report(step, 'created', `${createdId}: ${summary}`);
    return createdId;
  }
  const { LaunchTemplateVersions = [] } = await session.read(
    step,
    ec2,
    new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['$Default'] }),
  );
  if (sameLaunchData(LaunchTemplateVersions[0]?.LaunchTemplateData, data)) {
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
  );
  session.report(step, 'updated', `${id}: new default version (${summary})`);
  return id;
}

export async function deleteLaunchTemplate({ clients: { ec2 }, session }: Deployment, name: string) {
  const step = `launch template ${name}`;
  const gone = await alreadyGone(() =>
    session.change(step, ec2, new DeleteLaunchTemplateCommand({ LaunchTemplateName: name })),
  );
  session.report(step, gone ? 'already gone' : 'deleted');
}
