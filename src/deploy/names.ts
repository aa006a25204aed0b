/**
 * The names and tags of a deployment, as pure functions of its prefix: the course's bucket and queue names,
 * and the roles, security groups and launch template that provisioning adds around them.
 */
import { createHash } from 'node:crypto';
import { resourceNames } from '../shared/config/resources-names.js';

/** Marks everything provisioning creates, so that a person browsing the console sees where it came from. */
export const DEPLOYMENT_TAG = 'facefleet:deployment';
/** The port of the web tier, the course contract. */
export const WEB_PORT = 8000;
/** The course's name for the web instance. */
export const WEB_INSTANCE_NAME = 'web-instance';
/** The Name of the web group's instances (`--web-group`): they run the web tier only. */
export const WEB_GROUP_INSTANCE_NAME = 'web-group-instance';
/** Stand-in a dry run prints where AWS would have told the account id. */
export const PLACEHOLDER_ACCOUNT = 'ACCOUNT';

export function deploymentNames(prefix: string) {
  return {
    ...resourceNames(prefix),
    webRole: `${prefix}-web`,
    workerRole: `${prefix}-worker`,
    webSecurityGroup: `${prefix}-web-sg`,
    workerSecurityGroup: `${prefix}-worker-sg`,
    launchTemplate: `${prefix}-app-tier`,
    /** The app tier's Auto Scaling group (FLEET_DRIVER=asg) and its termination lifecycle hook. */
    appTierGroup: `${prefix}-app-tier`,
    drainHook: `${prefix}-drain`,
    /** The web group behind a load balancer (`--web-group`, load-balancer.ts). */
    webGroup: `${prefix}-web`,
    webLaunchTemplate: `${prefix}-web`,
    webScalingPolicy: `${prefix}-web-requests`,
    loadBalancerSecurityGroup: `${prefix}-alb-sg`,
    loadBalancer: elbName(prefix, 'alb'),
    webTargetGroup: elbName(prefix, 'web'),
  };
}

/** Load balancers' and target groups' names have at most 32 characters: a long prefix is cut and hashed. */
export function elbName(prefix: string, suffix: string): string {
  const whole = `${prefix}-${suffix}`;
  if (whole.length <= 32) return whole;
  const hash = createHash('sha256').update(prefix).digest('hex').slice(0, 6);
  const head = prefix.slice(0, 32 - suffix.length - hash.length - 2).replace(/-+$/, '');
  return `${head}-${hash}-${suffix}`;
}
export type DeploymentNames = ReturnType<typeof deploymentNames>;
