/**
 * Starts the real local stack (emulator, queues, worker processes, web tier) on free ports with a fresh
 * resource prefix, configured through the same environment variables a user sets.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/shared/config/config.js';
import { SETTING_NAMES } from '../../src/shared/config/settings.js';
import { createLogger } from '../../src/shared/logger.js';
import { startLocalStack, type LocalStack } from '../../src/local/stack.js';
import { newDataDir, newScratchDir } from './data-dirs.js';
import { COURSE_IMAGES, COURSE_LABELS } from './fixtures.js';

export { queueDepth } from '../../src/shared/aws/resources.js';

/**
 * The settings of a test stack, `env` on top. Every declared setting is reset (empty means unset), so that one
 * test file's settings never leak into the next; those below differ from the defaults for tests.
 */
export function testSettings(env: Record<string, string> = {}): Record<string, string> {
  return {
    ...Object.fromEntries(SETTING_NAMES.map((name) => [name, ''])),
    EMULATOR_PORT: '0',
    PORT: '0',
    HOST: '127.0.0.1',
    RESOURCE_PREFIX: `t-${randomBytes(4).toString('hex')}`,
    // A fixed fleet of two unless a test asks for scaling; the autoscaler decides four times a second.
    MIN_WORKERS: '2',
    MAX_WORKERS: '2',
    // No warm pool unless a test asks: each warm worker is one more process loading the models.
    WARM_WORKERS: '0',
    AUTOSCALER_POLL_MS: '250',
    AUTOSCALER_PORT: '0',
    MONITOR_PORT: '0',
    SCALE_IN_IDLE_SECONDS: '3',
    MESSAGES_PER_WORKER: '4',
    // A stopping worker lets its open poll end first: short polls keep shutdowns quick.
    WORKER_WAIT_SECONDS: '1',
    GALLERY_REFRESH_SECONDS: '1',
    SHUTDOWN_GRACE_SECONDS: '10',
    RESULT_TIMEOUT_SECONDS: '120',
    VISIBILITY_TIMEOUT_SECONDS: '30',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    ...env,
  };
}

export async function startTestStack(env: Record<string, string> = {}): Promise<LocalStack> {
  // Each stack keeps its state in a directory of its own, removed after the test file (tests look into it after
  // a stop).
  const dataDir = newDataDir();
  // The stack and its child workers read their configuration from the environment, as in production.
  Object.assign(process.env, testSettings({ DATA_DIR: dataDir, ...env }));
  const config = loadConfig();
  return startLocalStack(config, createLogger(config, { tier: 'test' }));
}

/** Runs `npm run enroll` (the real command) against the stack. */
export async function enroll(stack: LocalStack, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/enroll.ts', ...args], {
    env: { ...process.env, AWS_ENDPOINT_URL: stack.emulator.endpoint },
  });
  return stdout;
}

/**
 * Enrolls the first `count` course images with `npm run enroll` (a few seconds, against the whole set's
 * twenty): enough people for real matches. Returns the folder, which holds those images and their labels.
 */
export async function enrollCourseSubset(stack: LocalStack, count: number): Promise<string> {
  const dir = newScratchDir('facefleet-course-');
  const lines = readFileSync(COURSE_LABELS, 'utf8')
    .trim()
    .split('\n')
    .slice(0, count + 1);
  for (const line of lines.slice(1)) {
    const stem = line.split(',')[0]!;
    copyFileSync(`${COURSE_IMAGES}${stem}.jpg`, join(dir, `${stem}.jpg`));
  }
  writeFileSync(join(dir, 'labels.csv'), `${lines.join('\n')}\n`);
  await enroll(stack, ['--images', dir, '--labels', join(dir, 'labels.csv')]);
  return dir;
}

export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
