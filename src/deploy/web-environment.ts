/**
 * The deployment's configuration file and the web instance's environment. Provisioning writes
 * `facefleet.<prefix>.env`: the variables src/shared/config/config.ts reads on the web instance (region, prefix,
 * launch template, settings), with the queue URLs and bucket names as comments for people. `npm run aws:web`
 * puts that file in the web instance's user data, where the web tier and autoscaler units read it (systemd
 * EnvironmentFile).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../shared/config/config.js';
import { DEFAULT_MONITOR_PORT } from '../shared/config/settings.js';
import { environmentFile, instanceEnvironment } from '../shared/config/instance-environment.js';
import type { RequestLaunchTemplateData, _InstanceType } from '@aws-sdk/client-ec2';
import { WEB_PORT, type DeploymentNames } from './names.js';
import type { Provisioned } from './provision.js';

const TEMPLATE = fileURLToPath(new URL('../../deploy/web/user-data.sh', import.meta.url));
/** The web instance's units, in the order they are started: the web tier reads the autoscaler's status. */
const UNITS = ['facefleet-autoscaler.service', 'facefleet-monitor.service', 'facefleet-web.service'];
export const WEB_UNITS = UNITS.map((unit) => fileURLToPath(new URL(`../../deploy/web/${unit}`, import.meta.url)));
/** A web group instance runs the web tier alone: the autoscaler and the monitor are the web instance's. */
const WEB_GROUP_UNITS = ['facefleet-web.service'];
/**
 * What the web tier and the autoscaler read on the web instance: the settings declared for it (settings.ts),
 * its port, and the launch template provisioning made for the workers.
 */
export function webEnvironment(
  config: Config,
  launchTemplateId: string | undefined,
  options: { readonly servesWebGroup?: boolean } = {},
): Record<string, string> {
  return {
    ...instanceEnvironment(config, 'web'),
    ...(launchTemplateId ? { APP_TIER_LAUNCH_TEMPLATE: launchTemplateId } : {}),
    PORT: String(WEB_PORT),
    // The monitoring server runs beside the web tier (facefleet-monitor.service), on its default port.
    MONITOR_URL: `http://127.0.0.1:${DEFAULT_MONITOR_PORT}`,
    // With a web group, its instances read the autoscaler's status and report to the monitor here (the
    // security group lets only them in).
    ...(options.servesWebGroup ? { AUTOSCALER_HOST: '0.0.0.0', MONITOR_HOST: '0.0.0.0' } : {}),
  };
}

/** A web group instance's environment: the web tier only, on a reply queue of its own. */
export function webGroupEnvironment(config: Config, launchTemplateId: string): Record<string, string> {
  // The monitor is the web instance's, found as the autoscaler is (control-host.ts), not this instance's own.
  const env = webEnvironment(config, launchTemplateId);
  delete env['MONITOR_URL'];
  return { ...env, WEB_GROUP_MEMBER: 'true', REPLY_QUEUE: 'own' };
}

/** What the web group's instances are launched with (load-balancer.ts): the web tier's unit only. */
export function webGroupLaunchData(options: {
  config: Config;
  names: DeploymentNames;
  amiId: string;
  instanceType: string;
  securityGroupId: string;
  appTierLaunchTemplateId: string;
}): RequestLaunchTemplateData {
  const env = environmentFile(webGroupEnvironment(options.config, options.appTierLaunchTemplateId));
  return {
    ImageId: options.amiId,
    InstanceType: options.instanceType as _InstanceType,
    IamInstanceProfile: { Name: options.names.webRole },
    SecurityGroupIds: [options.securityGroupId],
    UserData: Buffer.from(renderWebUserData(env, WEB_GROUP_UNITS)).toString('base64'),
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
  };
}

/** Where provisioning writes the deployment file, unless told otherwise: `facefleet.<prefix>.env`. */
export function deploymentFileName(config: Config): string {
  return `facefleet.${config.resources.prefix}.env`;
}

/** The app-tier launch template a deployment file names; undefined before provisioning had an AMI. */
export function launchTemplateOf(deploymentFileText: string): string | undefined {
  return /^APP_TIER_LAUNCH_TEMPLATE=(.+)$/m.exec(deploymentFileText)?.[1];
}

/** The file provisioning writes: the variables, and what was created, as comments. */
export function deploymentFile(config: Config, p: Provisioned, now: Date = new Date()): string {
  const n = p.names;
  return [
    `# facefleet deployment "${config.resources.prefix}" in ${config.aws.region}, written by npm run aws:provision`,
    `# on ${now.toISOString()}. npm run aws:web puts these variables on the web instance (/etc/facefleet/web.env).`,
    `# Buckets: ${n.inBucket}, ${n.outBucket}, ${n.galleryBucket}`,
    `# Request queue: ${p.queueUrls.request}`,
    `# Response queue: ${p.queueUrls.response}`,
    `# Dead-letter queue: ${p.queueUrls.deadLetter}`,
    `# Launch template: ${p.launchTemplateId ?? 'none yet (run provisioning again with --ami)'}`,
    `# Security groups: web ${p.webSecurityGroupId}, workers ${p.workerSecurityGroupId} (VPC ${p.vpcId})`,
    `# Instance profiles: ${n.webRole}, ${n.workerRole}`,
    `# Auto Scaling group: ${p.group ?? 'none (the autoscaler launches instances itself; --group makes one)'}`,
    `# Web group: ${p.webGroup ? `${p.webGroup.name} behind http://${p.webGroup.loadBalancerDns}:${WEB_PORT}/` : 'none (one web instance; --web-group makes one)'}`,
    environmentFile(webEnvironment(config, p.launchTemplateId, { servesWebGroup: p.webGroup !== undefined })),
    '',
  ].join('\n');
}

/** The web instance's user data, with the deployment file's variables (comments dropped), starting `units`. */
export function renderWebUserData(deploymentFileText: string, units: readonly string[] = UNITS): string {
  const variables = deploymentFileText
    .split('\n')
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
    .join('\n');
  return readFileSync(TEMPLATE, 'utf8').replace('{{WEB_ENV}}', variables).replace('{{UNITS}}', units.join(' '));
}
