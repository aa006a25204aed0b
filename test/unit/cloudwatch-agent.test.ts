/** LOG_SHIPPING=cloudwatch: the agent's configuration, and the image's units that start it only when asked. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cloudWatchAgentConfig, logGroupName, UNITS_LOG } from '../../src/deploy/cloudwatch-agent.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('shipping logs to CloudWatch', () => {
  it('collects the units’ journal copy into /facefleet/<prefix>, a stream per instance, kept RETENTION_DAYS', () => {
    const files = cloudWatchAgentConfig('asu1234', 7).logs.logs_collected.files.collect_list;
    expect(files).toEqual([
      {
        file_path: UNITS_LOG,
        log_group_name: '/facefleet/asu1234',
        log_stream_name: '{instance_id}',
        retention_in_days: 7,
      },
    ]);
    // CloudWatch Logs takes only some numbers of days: the next one up; none kept for ever.
    expect(cloudWatchAgentConfig('asu1234', 0.5).logs.logs_collected.files.collect_list[0]!.retention_in_days).toBe(1);
    expect(cloudWatchAgentConfig('asu1234', 10).logs.logs_collected.files.collect_list[0]!.retention_in_days).toBe(14);
    expect(
      cloudWatchAgentConfig('asu1234', undefined).logs.logs_collected.files.collect_list[0]!.retention_in_days,
    ).toBe(-1);
    expect(logGroupName('asu1234')).toBe('/facefleet/asu1234');
  });

  it('is written on the instance from its environment file', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/cloudwatch-agent-config.ts'],
      {
        cwd: new URL('.', root).pathname,
        env: {
          ...process.env,
          FACEFLEET_STACK: 'aws',
          RESOURCE_PREFIX: 'asu1234',
          RETENTION_DAYS: '30',
          LOG_SHIPPING: 'cloudwatch',
        },
      },
    );
    expect(JSON.parse(stdout)).toEqual(cloudWatchAgentConfig('asu1234', 30));
  });

  it('is installed and enabled in the image, and starts the agent only for a deployment that ships its logs', () => {
    const bake = read('deploy/bake.sh');
    expect(bake).toContain('dnf install -y --quiet amazon-cloudwatch-agent');
    expect(bake).toContain('--verify "$work/agent.deb.sig" "$work/agent.deb"');
    expect(bake).toContain('systemctl enable facefleet-logs.service');
    const unit = read('deploy/logs/facefleet-logs.service');
    expect(unit).toContain('ExecCondition=/bin/sh -c \'grep -qs "^LOG_SHIPPING=cloudwatch$"');
    expect(unit).toContain('scripts/cloudwatch-agent-config.ts');
    expect(read('deploy/logs/facefleet-journal.service')).toContain(`>> ${UNITS_LOG}`);
  });
});
