/**
 * The environment of a deployed instance, rendered from the config of the machine that deploys it: every
 * setting declared (settings.ts) for that kind of instance, from where the config holds it. Only names and
 * settings go in; never credentials (the SDK takes them from the instance profile) nor secrets.
 */
import type { Config } from './config.js';
import { SETTING_NAMES, SETTINGS, type Instance, type SettingSpec } from './settings.js';

export function instanceEnvironment(config: Config, instance: Instance): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const { deploy, secret } = SETTINGS[name] as SettingSpec;
    if (!deploy?.to.includes(instance) || secret) continue;
    const value = deploy.fixed ?? render(deploy, valueAt(config, deploy.at ?? ''), name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function render(deploy: NonNullable<SettingSpec['deploy']>, value: unknown, name: string): string | undefined {
  if (deploy.render) return deploy.render(value);
  if (value === undefined) return undefined;
  if (typeof value === 'object') throw new Error(`${name}: ${deploy.at} is not a single value in the config`);
  return String(value as string | number | boolean);
}

/** The config's value at a dotted path ("queue.maxReceiveCount"). */
export function valueAt(config: Config, path: string): unknown {
  let value: unknown = config;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !(key in value)) {
      throw new Error(`the config has nothing at "${path}"`);
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * `KEY=value` lines for a systemd EnvironmentFile. Values are names, numbers and URLs: anything else (quotes,
 * spaces, newlines) is refused rather than escaped, so that nothing can break out of the file or the script
 * that writes it.
 */
export function environmentFile(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (!/^[\w.:/@+,-]*$/.test(v)) throw new Error(`${k} has characters not allowed in user data: ${v}`);
      return `${k}=${v}`;
    })
    .join('\n');
}
