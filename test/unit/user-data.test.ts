/** What boots a worker on an app-tier instance: rendered from the config, round-tripping, free of secrets. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderWorkerUserData, WORKER_UNIT, workerEnvironment } from '../../src/autoscaler/user-data.js';
import { loadConfig } from '../../src/shared/config/config.js';

const config = loadConfig({
  FACEFLEET_STACK: 'aws',
  AWS_REGION: 'us-west-2',
  RESOURCE_PREFIX: 'asu1234',
  VISIBILITY_TIMEOUT_SECONDS: '60',
  WORKER_WAIT_SECONDS: '10',
  APP_TIER_AMI_ID: 'ami-0123456789abcdef0',
});

/** The KEY=value lines between the heredoc markers of the rendered user data. */
function envFileOf(userData: string): Record<string, string> {
  const body = userData.split("<<'FACEFLEET_ENV'\n")[1]!.split('\nFACEFLEET_ENV')[0]!;
  return Object.fromEntries(body.split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

describe('worker user data', () => {
  const userData = renderWorkerUserData(config);

  it('is a bash script that writes the worker environment and starts the workers (one per vCPU, by the image’s unit)', () => {
    expect(userData.startsWith('#!/bin/bash\n')).toBe(true);
    expect(userData).toContain('/etc/facefleet/worker.env');
    expect(userData).toContain('systemctl start facefleet-workers.service');
    expect(userData).not.toContain('{{');
  });

  it('round-trips: the environment it writes loads as the same worker configuration', () => {
    const env = envFileOf(userData);
    expect(env).toEqual(workerEnvironment(config));
    const worker = loadConfig(env);
    expect(worker.stack).toBe('aws');
    expect(worker.aws).toMatchObject({ region: 'us-west-2', endpoint: undefined, useEmulatorCredentials: false });
    expect(worker.resources).toEqual(config.resources);
    expect(worker.queue).toEqual(config.queue);
    expect(worker.matching).toEqual(config.matching);
    expect({ ...worker.worker, id: undefined }).toEqual({ ...config.worker, id: undefined });
    expect(worker.recognition.maxImagePixels).toBe(config.recognition.maxImagePixels);
  });

  it('holds no credentials', () => {
    expect(userData).not.toMatch(
      /AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws_secret|AKIA[0-9A-Z]{16}/i,
    );
  });

  it('refuses values that could break out of the environment file', () => {
    const odd = {
      ...config,
      settings: { ...config.settings, LOG_LEVEL: 'info\nrm -rf /' },
    } as unknown as typeof config;
    expect(() => renderWorkerUserData(odd)).toThrow(/LOG_LEVEL has characters not allowed/);
  });
});

describe('the worker systemd unit', () => {
  const unit = readFileSync(WORKER_UNIT, 'utf8');

  it('runs the app tier from the environment file, restarts it, and drains it with SIGTERM', () => {
    expect(unit).toContain('EnvironmentFile=/etc/facefleet/worker.env');
    expect(unit).toContain('exec /usr/bin/node --import tsx src/app-tier/main.ts');
    // Worker n's health probes on their own port, 8001 + n: two workers of an instance never collide.
    expect(unit).toContain("ExecStart=/bin/sh -c 'WORKER_HEALTH_PORT=$$((8001 + %i)) exec");
    expect(unit).toContain('Restart=always');
    expect(unit).toContain('KillSignal=SIGTERM');
    expect(Number(/TimeoutStopSec=(\d+)/.exec(unit)?.[1])).toBeGreaterThan(20);
    expect(unit).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/);
  });
});
