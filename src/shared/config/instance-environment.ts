/**
 * The environment of a deployed instance, rendered from the config of the machine that deploys it: every
 * setting declared (settings.ts) for that kind of instance, with the value the deploying machine's config
 * parsed, its default included. Only names and settings go in; never credentials (the SDK takes them from
 * the instance profile) nor secrets.
 */
import type { Config } from './config.js';
import { SETTING_NAMES, SETTINGS, type Instance, type SettingSpec } from './settings.js';

export function instanceEnvironment(config: Config, instance: Instance): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const { deploy, secret } = SETTINGS[name] as SettingSpec;
    if (!deploy?.to.includes(instance) || secret) continue;
    const value: unknown = deploy.fixed ?? config.settings[name];
    if (value === undefined) continue;
    if (typeof value === 'object') throw new Error(`${name} does not parse to a single value`);
    env[name] = String(value as string | number | boolean);
  }
  return env;
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
