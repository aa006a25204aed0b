/**
 * The tiers talk only through S3 and SQS: the emulator (standing in for AWS), the web tier and the workers each
 * run in a network namespace of their own. The "AWS" namespace has one link to the web tier's and one to the
 * workers', and does not route between them; the client reaches only the web tier. The course workload passes
 * across them, and the workers' namespace cannot reach the web tier at all. Needs root and iproute2 (`ip netns`);
 * skipped with a message otherwise.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabels, pickImages, runWorkload } from '../../scripts/lib/workload.js';
import { newScratchDir } from '../helpers/data-dirs.js';
import { COURSE_IMAGES, COURSE_LABELS } from '../helpers/fixtures.js';
import { testSettings, until } from '../helpers/stack.js';

const hasNetns = (() => {
  try {
    return process.getuid?.() === 0 && execFileSync('ip', ['netns', 'list']) !== undefined;
  } catch {
    return false;
  }
})();
if (!hasNetns) console.warn('Skipping the network-namespace test: it needs root and iproute2 (ip netns).');

const id = randomBytes(2).toString('hex');
/** One /30 per link: the "AWS" side is .1, the other side .2. */
const NS = { aws: `ff-aws-${id}`, web: `ff-web-${id}`, app: `ff-app-${id}` };
const AWS_TO_WEB = { aws: '10.231.0.1', web: '10.231.0.2' };
const AWS_TO_APP = { aws: '10.232.0.1', app: '10.232.0.2' };
const CLIENT_TO_WEB = { client: '10.233.0.1', web: '10.233.0.2' };
const PORT = 4566;

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' }).toString();

/** A veth pair between two namespaces (undefined: the root one), with an address on each end. */
function link(name: string, a: { ns?: string; ip: string }, b: { ns?: string; ip: string }) {
  ip('link', 'add', `${name}a`, 'type', 'veth', 'peer', 'name', `${name}b`);
  for (const [end, side] of [
    ['a', a],
    ['b', b],
  ] as const) {
    const dev = `${name}${end}`;
    if (side.ns) ip('link', 'set', dev, 'netns', side.ns);
    const inNs = side.ns ? ['-n', side.ns] : [];
    ip(...inNs, 'addr', 'add', `${side.ip}/30`, 'dev', dev);
    ip(...inNs, 'link', 'set', dev, 'up');
  }
}

describe.skipIf(!hasNetns)('tiers in separate network namespaces', () => {
  const children: ChildProcess[] = [];
  const dataDir = newScratchDir('facefleet-netns-');
  const settings = (ns: 'web' | 'app' | 'aws', extra: Record<string, string> = {}) => ({
    ...process.env,
    ...testSettings({
      DATA_DIR: dataDir,
      RESOURCE_PREFIX: `netns-${id}`,
      AWS_ENDPOINT_URL: `http://${ns === 'app' ? AWS_TO_APP.aws : AWS_TO_WEB.aws}:${PORT}`,
      LOG_LEVEL: 'warn',
      ...extra,
    }),
  });
  /** Runs a project entry in a namespace. `ip netns exec` execs it, so the child is the node process itself. */
  const start = (ns: string, script: string, env: NodeJS.ProcessEnv) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    return child;
  };
  const runIn = (ns: string, args: string[], env: NodeJS.ProcessEnv) =>
    execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', ...args], {
      env,
      stdio: 'pipe',
    }).toString();

  beforeAll(async () => {
    for (const ns of Object.values(NS)) ip('netns', 'add', ns);
    for (const ns of Object.values(NS)) ip('-n', ns, 'link', 'set', 'lo', 'up');
    link(`fw${id}`, { ns: NS.aws, ip: AWS_TO_WEB.aws }, { ns: NS.web, ip: AWS_TO_WEB.web });
    link(`fa${id}`, { ns: NS.aws, ip: AWS_TO_APP.aws }, { ns: NS.app, ip: AWS_TO_APP.app });
    link(`fc${id}`, { ip: CLIENT_TO_WEB.client }, { ns: NS.web, ip: CLIENT_TO_WEB.web });

    start(
      NS.aws,
      'src/local/emulator-main.ts',
      settings('aws', { EMULATOR_HOST: '0.0.0.0', EMULATOR_PORT: String(PORT) }),
    );
    // The buckets and queues, made from the web tier's namespace as soon as the emulator answers there.
    const ensure = `
      import { createS3Client, createSqsClient } from './src/shared/aws/clients.ts';
      import { loadConfig } from './src/shared/config/config.ts';
      import { ensureResources } from './src/shared/aws/resources.ts';
      const config = loadConfig();
      await ensureResources(config, createS3Client(config), createSqsClient(config));`;
    await until(
      () => {
        try {
          runIn(NS.web, ['--input-type=module', '-e', ensure], settings('web'));
          return true;
        } catch {
          return false;
        }
      },
      60_000,
      'the emulator, from the web tier’s namespace',
    );
    runIn(NS.web, ['scripts/enroll.ts', '--images', COURSE_IMAGES, '--labels', COURSE_LABELS], settings('web'));
    for (const n of [1, 2]) start(NS.app, 'src/app-tier/main.ts', settings('app', { WORKER_ID: `netns-worker-${n}` }));
    start(NS.web, 'src/web-tier/main.ts', settings('web', { HOST: '0.0.0.0', PORT: '8000' }));
    await until(
      async () => (await fetch(`http://${CLIENT_TO_WEB.web}:8000/readyz`).catch(() => undefined))?.status === 200,
      60_000,
      'the web tier, from the client',
    );
  }, 300_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
    for (const ns of Object.values(NS)) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // Not made: beforeAll failed early.
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the workers’ namespace reaches the emulator, and not the web tier', () => {
    const probe = (host: string, port: number) =>
      runIn(
        NS.app,
        [
          '-e',
          `const s = require('node:net').connect(${port}, '${host}');
           s.setTimeout(2000, () => { console.log('timeout'); process.exit(0); });
           s.on('connect', () => { console.log('connected'); process.exit(0); });
           s.on('error', (e) => { console.log(e.code); process.exit(0); });`,
        ],
        process.env,
      ).trim();
    expect(probe(AWS_TO_APP.aws, PORT)).toBe('connected');
    expect(probe(AWS_TO_WEB.web, 8000)).toMatch(/ENETUNREACH|EHOSTUNREACH|timeout/);
    expect(probe(CLIENT_TO_WEB.web, 8000)).toMatch(/ENETUNREACH|EHOSTUNREACH|timeout/);
  });

  it('passes the course workload across the namespaces: 1000 requests, 100 at once, all correct', async () => {
    const labels = await loadLabels(COURSE_LABELS);
    const result = await runWorkload({
      url: new URL(`http://${CLIENT_TO_WEB.web}:8000/`),
      folder: COURSE_IMAGES,
      // The fixtures' 100 names, ten times over: 1000 requests as the course sends them.
      images: await pickImages(COURSE_IMAGES, 1000, 'first', 1),
      concurrency: 100,
      freshConnection: true,
      labels,
    });
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ totalRequests: 1000, correct: 1000, failed: 0, wrong: 0 });
    console.info(
      `network namespaces: 1000 requests in ${result.durationSeconds.toFixed(1)} s, ${result.requestsPerSecond.toFixed(1)}/s, p50 ${result.latencyMs.p50} ms`,
    );
  }, 300_000);
});
