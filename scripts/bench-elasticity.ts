/**
 * `npm run bench:elasticity -- [--trickle-seconds 40] [--idle-seconds 30] [--idle-requests 5]`: what a user meets
 * in `npm start`'s first minutes, measured on its stack with the course gallery enrolled, and printed with the CPU
 * model:
 *
 * 1. A burst of 300 course requests at concurrency 100, then one request every 0.5 s: when the fleet reaches
 *    its cap, the trickle's latency, and `GET /status` every 0.5 s (samples at 0 running workers from 15 s after
 *    the burst: a fleet that flaps shows them); then how long after the last answer the fleet is at 0 running.
 * 2. Requests after a pause of `--idle-seconds` each, with 0 running workers before them: their latency.
 *
 * The figures of docs/autoscaling.md come from this script's first version, run in the session of issue 27.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { childEnvironment } from '../src/shared/config/config.js';
import { positiveInt } from './lib/options.js';
import { cpuInfo } from './lib/reference.js';
import { forkStack, stopStack } from './lib/stack-process.js';
import { loadLabels, pickImages, runWorkload } from './lib/workload.js';

const COURSE = '../shared/datasets/cse546-face-images-1000';

const o = new Command()
  .name('npm run bench:elasticity --')
  .description('A burst then a trickle, and requests after a pause, on npm start’s stack.')
  .option('--trickle-seconds <n>', 'how long the trickle of 2 requests/s lasts', positiveInt, 40)
  .option('--idle-seconds <n>', 'the pause before each idle request', positiveInt, 30)
  .option('--idle-requests <n>', 'requests after a pause', positiveInt, 5)
  .parse()
  .opts<{ trickleSeconds: number; idleSeconds: number; idleRequests: number }>();

interface Status {
  queue: { visible: number; inFlight: number };
  workers: { starting: number; running: number; stopping: number; warm?: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dataDir = await mkdtemp(join(tmpdir(), 'facefleet-elasticity-'));
const env = childEnvironment({
  PORT: '0',
  HOST: '127.0.0.1',
  EMULATOR_PORT: '0',
  AUTOSCALER_PORT: '0',
  MONITOR_PORT: '0',
  RESOURCE_PREFIX: `elastic-${randomBytes(3).toString('hex')}`,
  DATA_DIR: dataDir,
  LOG_FORMAT: 'json',
  LOG_LEVEL: 'warn',
});
const { child, ready } = forkStack(env);
try {
  const stack = await ready;
  const url = `${stack.webUrl}/`;
  const status = async () => (await (await fetch(`${stack.webUrl}/status`)).json()) as Status;
  const post = async (stem: string) => {
    const form = new FormData();
    form.append('inputFile', new Blob([readFileSync(`${COURSE}/images/${stem}.jpg`)]), `${stem}.jpg`);
    const started = performance.now();
    const res = await fetch(url, { method: 'POST', body: form, headers: { Connection: 'close' } });
    await res.text();
    return { ok: res.status === 200, ms: performance.now() - started };
  };
  await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'scripts/enroll.ts', '--images', `${COURSE}/images`, '--labels', `${COURSE}/labels.csv`],
    { env: { ...env, AWS_ENDPOINT_URL: stack.endpoint } },
  );
  while (!(await post('test_000')).ok) await sleep(500);
  console.log(`elasticity, ${new Date().toISOString().slice(0, 10)}: ${cpuInfo().model}, npm start's stack`);

  // 1. The burst, then the trickle.
  const folder = `${COURSE}/images`;
  const burstStart = Date.now();
  let capAt: number | undefined;
  const capWatch = (async () => {
    while (capAt === undefined && Date.now() - burstStart < 60_000) {
      if ((await status()).workers.running >= 2) capAt = Date.now();
      await sleep(100);
    }
  })();
  const burst = await runWorkload({
    url: new URL(url),
    folder,
    images: await pickImages(folder, 300, 'first', 1),
    concurrency: 100,
    freshConnection: true,
    labels: await loadLabels(`${COURSE}/labels.csv`),
  });
  await capWatch;
  const burstEnd = Date.now();
  const samples: { t: number; s: Status }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const s = await status().catch(() => undefined);
      if (s) samples.push({ t: (Date.now() - burstEnd) / 1000, s });
      await sleep(500);
    }
  })();
  const latencies: number[] = [];
  let answered = 0;
  for (let i = 0; i < o.trickleSeconds * 2; i++) {
    const started = Date.now();
    const a = await post(`test_${String(100 + (i % 900)).padStart(3, '0')}`);
    if (a.ok) answered++;
    latencies.push(a.ms);
    await sleep(Math.max(0, 500 - (Date.now() - started)));
  }
  sampling = false;
  await sampler;
  const lastAnswer = Date.now();
  let zeroAfter: number | undefined;
  while (zeroAfter === undefined && Date.now() - lastAnswer < 60_000) {
    const s = await status();
    if (s.workers.running + s.workers.starting === 0) zeroAfter = Date.now() - lastAnswer;
    else await sleep(100);
  }
  latencies.sort((a, b) => a - b);
  const late = samples.filter((x) => x.t >= 15);
  console.log(
    `burst: ${burst.correct}/300 correct; 2 running ${capAt === undefined ? 'never' : `${((capAt - burstStart) / 1000).toFixed(1)} s`} after it began`,
  );
  console.log(
    `trickle: ${answered}/${latencies.length} answered; p50 ${Math.round(latencies[Math.floor(latencies.length / 2)]!)} ms, ` +
      `p99 ${Math.round(latencies[Math.ceil(latencies.length * 0.99) - 1]!)} ms; from 15 s after the burst, ` +
      `${late.filter((x) => x.s.workers.running === 0).length} of ${late.length} samples at 0 running, ` +
      `${late.filter((x) => x.s.workers.starting > 0).length} starting`,
  );
  console.log(
    `running workers every 2 s from the burst's end: ${samples
      .filter((_, i) => i % 4 === 0)
      .map((x) => x.s.workers.running)
      .join(' ')}`,
  );
  console.log(
    `0 running ${zeroAfter === undefined ? 'not within 60 s' : `${(zeroAfter / 1000).toFixed(1)} s`} after the last answer`,
  );

  // 2. Requests after a pause.
  const idle: string[] = [];
  for (let i = 0; i < o.idleRequests; i++) {
    await sleep(o.idleSeconds * 1000);
    const before = await status();
    const a = await post(`test_00${(i % 9) + 1}`);
    idle.push(
      `${Math.round(a.ms)} ms${a.ok ? '' : ' (failed)'} (${before.workers.running} running, ${before.workers.warm ?? 0} warm before)`,
    );
  }
  console.log(`after ${o.idleSeconds} s idle: ${idle.join('; ')}`);
} finally {
  await stopStack(child, 'SIGTERM');
  await rm(dataDir, { recursive: true, force: true });
}
