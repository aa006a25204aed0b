/**
 * The deployment's configuration file and the web instance's environment. Provisioning writes
 * `facefleet.<prefix>.env`: the variables src/shared/config.ts reads on the web instance (region, prefix,
 * launch template, settings), with the queue URLs and bucket names as comments for people. `npm run aws:web`
 * puts that file in the web instance's user data, where the web tier and autoscaler units read it (systemd
 * EnvironmentFile).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../shared/config.js';
import { DEFAULT_MONITOR_PORT } from '../shared/settings.js';
import { environmentFile, instanceEnvironment } from '../shared/instance-environment.js';
import { WEB_PORT } from './names.js';
import type { Provisioned } from './provision.js';

const TEMPLATE = fileURLToPath(new URL('../../deploy/web/user-data.sh', import.meta.url));
export const WEB_UNITS = ['facefleet-web.service', 'facefleet-autoscaler.service', 'facefleet-monitor.service'].map(
  (unit) => fileURLToPath(new URL(`../../deploy/web/${unit}`, import.meta.url)),
);
/**
 * What the web tier and the autoscaler read on the web instance: the settings declared for it (settings.ts),
 * its port, and the launch template provisioning made for the workers.
 */
export function webEnvironment(config: Config, launchTemplateId: string | undefined): Record<string, string> {
  return {
    ...instanceEnvironment(config, 'web'),
    ...(launchTemplateId ? { APP_TIER_LAUNCH_TEMPLATE: launchTemplateId } : {}),
    PORT: String(WEB_PORT),
    // The monitoring server runs beside the web tier (facefleet-monitor.service), on its default port.
    MONITOR_URL: `http://127.0.0.1:${DEFAULT_MONITOR_PORT}`,
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
    environmentFile(webEnvironment(config, p.launchTemplateId)),
    '',
  ].join('\n');
}

/** The web instance's user data, with the deployment file's variables (comments dropped). */
export function renderWebUserData(deploymentFileText: string): string {
  const variables = deploymentFileText
    .split('\n')
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
    .join('\n');
  return readFileSync(TEMPLATE, 'utf8').replace('{{WEB_ENV}}', variables);
}
