/**
 * A new user's first hour with `npm start` (a real child process, as a person runs it): the local API key it
 * makes, keeps and prints once with a console link, and the tools that find the running stack from its data
 * directory without being told its ports.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forkStack, stopStack } from '../../scripts/lib/stack-process.js';
import { SETTING_NAMES } from '../../src/shared/config/settings.js';
import { newScratchDir } from '../helpers/data-dirs.js';
import { COURSE_IMAGES, COURSE_LABELS } from '../helpers/fixtures.js';
import { runScript } from '../helpers/scripts.js';
import { testSettings, until } from '../helpers/stack.js';

/** What a person's shell has: none of our settings but the data directory. */
const plainShell = (dataDir: string): NodeJS.ProcessEnv => ({
  ...process.env,
  ...Object.fromEntries(SETTING_NAMES.map((name) => [name, ''])),
  DATA_DIR: dataDir,
});

describe('npm start for a new user', () => {
  const dataDir = newScratchDir('facefleet-first-hour-');
  const settings = testSettings({ DATA_DIR: dataDir, LOG_LEVEL: 'info', MIN_WORKERS: '0', MAX_WORKERS: '1' });
  let stack: ReturnType<typeof forkStack> | undefined;
  let output = '';

  const start = async (env: Record<string, string>) => {
    stack = forkStack(env, { stdout: 'pipe', stderr: 'pipe' });
    stack.child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ready = await stack.ready;
    // The ready line is written as the message is sent: wait for it to come through the pipe.
    await until(() => output.includes('"console":'), 10_000, 'the ready line');
    return ready;
  };
  const stop = async () => {
    if (stack) await stopStack(stack.child);
    stack = undefined;
  };
  afterAll(stop);

  it('makes a key, keeps it in the data directory, and prints it once, in a link that signs the console in', async () => {
    const ready = await start(settings);
    const key = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(dataDir, 'api-key')).mode & 0o777).toBe(0o600);
    expect(output).toContain(`${ready.webUrl}/console/#key=${key}`);
    // The key opens the enrollment API; nothing else does.
    const people = (k?: string) =>
      fetch(`${ready.webUrl}/people`, { headers: k ? { 'X-API-Key': k } : {} }).then((r) => r.status);
    expect(await people(key)).toBe(200);
    expect(await people()).toBe(401);

    // The tools find this stack from the data directory alone: its ports and prefix were never given to them.
    const enrolled = await runScript(
      'scripts/enroll.ts',
      ['--images', COURSE_IMAGES, '--labels', COURSE_LABELS],
      plainShell(dataDir),
    );
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect(enrolled.stdout).toMatch(/Enrolled 10 faces of 8 people/);
    const listed = await fetch(`${ready.webUrl}/people`, { headers: { 'X-API-Key': key } }).then((r) => r.json());
    expect((listed as { totalPeople: number }).totalPeople).toBe(8);
    const workload = await runScript(
      'scripts/workload.ts',
      ['--images', COURSE_IMAGES, '--labels', COURSE_LABELS, '-n', '3', '--json', '--no-progress'],
      plainShell(dataDir),
    );
    expect(workload.code, workload.stderr).toBe(0);
    expect(JSON.parse(workload.stdout)).toMatchObject({ totalRequests: 3, correct: 3 });

    await stop();
    // Said once: in the ready line, in no other line of the whole run.
    expect(output.split('\n').filter((line) => line.includes(key))).toHaveLength(1);
  }, 240_000);

  it('keeps the key across a restart, and an explicit API_KEY wins', async () => {
    const key = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
    output = '';
    const again = await start(settings);
    expect(output).toContain(`${again.webUrl}/console/#key=${key}`);
    await stop();
    output = '';
    const given = 'given-key-0123456789abcdef';
    const explicit = await start({ ...settings, API_KEY: given });
    expect(output).not.toContain('#key=');
    expect(output).not.toContain(given);
    expect(await fetch(`${explicit.webUrl}/people`, { headers: { 'X-API-Key': given } }).then((r) => r.status)).toBe(
      200,
    );
    expect(readFileSync(join(dataDir, 'api-key'), 'utf8').trim()).toBe(key);
    await stop();
  }, 180_000);

  it('has the tools say how to start a stack when none runs', async () => {
    const nowhere = newScratchDir('facefleet-no-stack-');
    const enrolled = await runScript('scripts/enroll.ts', ['--images', COURSE_IMAGES], plainShell(nowhere));
    expect(enrolled.code).toBe(1);
    expect(enrolled.stderr).toMatch(
      new RegExp(
        `^enroll: no facefleet stack is running with the data directory ${nowhere}\\. Start one with "npm start"`,
      ),
    );
    const students = await runScript('scripts/students.ts', ['--file', COURSE_LABELS], plainShell(nowhere));
    expect(students.code).toBe(1);
    expect(students.stderr).toMatch(/^students: no facefleet stack is running/);
  });
});
