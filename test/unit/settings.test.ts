/** The settings' one declaration: the schema, the instances' environments and the reference all come from it. */
import { describe, expect, it } from 'vitest';
import { workerEnvironment } from '../../src/autoscaler/user-data.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { instanceEnvironment } from '../../src/shared/config/instance-environment.js';
import { SETTING_NAMES, SETTINGS, type SettingSpec } from '../../src/shared/config/settings.js';
import { readFile } from 'node:fs/promises';
import { renderSection } from '../../scripts/lib/generated-section.js';
import { SETTINGS_SECTION } from '../../scripts/lib/settings-doc.js';
import { webEnvironment } from '../../src/deploy/web-environment.js';

/** A deployment whose every deployed setting differs from its default, so that a lost one shows. */
const deploying = loadConfig({
  FACEFLEET_STACK: 'aws',
  AWS_REGION: 'eu-west-3',
  RESOURCE_PREFIX: 'asu1234',
  APP_TIER_GROUP: 'asu1234-app-tier',
  MAX_UPLOAD_BYTES: '5000000',
  MAX_IMAGE_PIXELS: '20000000',
  RESULT_TIMEOUT_SECONDS: '90',
  HEADERS_TIMEOUT_SECONDS: '15',
  UPLOAD_TIMEOUT_SECONDS: '60',
  MAX_CONNECTIONS: '500',
  MAX_CONCURRENT_UPLOADS: '64',
  MAX_UPLOAD_MEMORY_BYTES: '100000000',
  RESPONSE_POLLERS: '3',
  VISIBILITY_TIMEOUT_SECONDS: '45',
  MAX_RECEIVE_COUNT: '4',
  WORKER_BATCH_SIZE: '5',
  WORKER_WAIT_SECONDS: '12',
  GALLERY_REFRESH_SECONDS: '9',
  MATCH_THRESHOLD: 'off',
  MAX_FACES: '7',
  PEOPLE_READ_REQUIRES_KEY: 'false',
  AUTOSCALER_POLL_MS: '2000',
  MESSAGES_PER_WORKER: '6',
  MIN_WORKERS: '1',
  MAX_WORKERS: '12',
  SCALE_IN_IDLE_SECONDS: '20',
  APP_TIER_SUBNET_ID: 'subnet-0abc',
  WARM_POOL: 'true',
  SHUTDOWN_GRACE_SECONDS: '40',
  LOG_LEVEL: 'debug',
  HEARTBEAT_SECONDS: '14',
  WEB_METRICS_PORT: '8030',
  AUTOSCALER_IDLE_POLL_MS: '1500',
  FLEET_DRIVER: 'asg',
});

const deployed = (instance: 'worker' | 'web') =>
  SETTING_NAMES.filter((n) => (SETTINGS[n] as SettingSpec).deploy?.to.includes(instance));

describe('settings', () => {
  it('docs/configuration.md lists every setting as declared (run "npm run docs:config" if this fails)', async () => {
    const current = await readFile(SETTINGS_SECTION.doc, 'utf8');
    expect(current).toBe(await renderSection(SETTINGS_SECTION, current));
    for (const name of SETTING_NAMES) expect(current).toContain(`\`${name}\``);
  });

  it('declares every setting once, in the place of the config where its value is', () => {
    expect(new Set(SETTING_NAMES).size).toBe(SETTING_NAMES.length);
    expect(deploying.web.maxUploadBytes).toBe(5_000_000);
    expect(deploying.autoscaler.policy.scaleInIdleMs).toBe(20_000);
    expect(deploying.fleet.ec2.securityGroupIds).toBeUndefined();
    expect(loadConfig({ APP_TIER_SECURITY_GROUP_IDS: 'sg-1, sg-2,' }).fleet.ec2.securityGroupIds).toEqual([
      'sg-1',
      'sg-2',
    ]);
  });

  it.each(['worker', 'web'] as const)(
    'renders a %s instance environment that loads as the same settings',
    (instance) => {
      const env = instance === 'web' ? webEnvironment(deploying, 'lt-0123') : instanceEnvironment(deploying, instance);
      expect(Object.keys(env)).toEqual(expect.arrayContaining(deployed(instance)));
      const loaded = loadConfig(env);
      for (const name of deployed(instance)) {
        if (!(SETTINGS[name] as SettingSpec).deploy?.fixed) {
          expect(loaded.settings[name], name).toEqual(deploying.settings[name]);
        }
      }
      expect(loaded.matching).toEqual(deploying.matching);
      if (instance === 'web') {
        expect(loaded.autoscaler.policy.scaleInIdleMs).toBe(deploying.autoscaler.policy.scaleInIdleMs);
      }
      expect(loaded.stack).toBe('aws');
      expect(loaded.log.format).toBe('json');
    },
  );

  it('keeps secrets and per-instance settings out of every instance environment', () => {
    const config = loadConfig({ FACEFLEET_STACK: 'aws', API_KEY: 'k'.repeat(20), WORKER_ID: 'w-1', DATA_DIR: '/x' });
    for (const env of [workerEnvironment(config), webEnvironment(config, undefined)]) {
      expect(env).not.toHaveProperty('API_KEY');
      expect(env).not.toHaveProperty('WORKER_ID');
      expect(env).not.toHaveProperty('DATA_DIR');
    }
  });

  it('states the defaults the README promised wrongly before: workers long-poll 5 s', () => {
    expect(loadConfig({}).worker.waitTimeSeconds).toBe(5);
    expect(SETTINGS.WORKER_WAIT_SECONDS.schema.parse(undefined)).toBe(5);
  });
});
