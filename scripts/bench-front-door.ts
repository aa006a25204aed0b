/**
 * `npm run bench:front-door -- [--web-processes 1,2] [--json]`: the front door alone, side by side in one run.
 *
 * For each count of web processes: the emulator, the web tier (`src/web-tier/main.ts`, as on the web instance:
 * with WEB_PROCESSES above 1, a supervisor and its web processes on one port) and workers that answer at once
 * (scripts/lib/instant-worker.ts: the real queues and S3, no model), then the course workload (1000 requests,
 * 100 at once, a fresh connection each). It prints requests/s, latency, correctness, and the CPU each process
 * kind spends per request, with the CPU model; the configurations run in turn, `--rounds` times, so that the
 * machine's drift falls on each alike.
 *
 * `--web-from DIR` runs the web tier of another checkout (an earlier commit, its node_modules beside it) against
 * the same emulator and instant workers: the before-and-after of a change to the front door.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { pino } from 'pino';
import { EmulatorProcess } from '../src/local/emulator-process.js';
import { createS3Client, createSqsClient } from '../src/shared/aws/clients.js';
import { childEnvironment, loadConfig } from '../src/shared/config/config.js';
import { ensureResources } from '../src/shared/aws/resources.js';
import { positiveInt } from './lib/options.js';
import { processCpuMs } from './lib/proc.js';
import { cpuInfo } from './lib/reference.js';
import { loadLabels, pickImages, runWorkload, type WorkloadResult } from './lib/workload.js';

const COURSE = '../shared/datasets/cse546-face-images-1000';
const INSTANT_WORKER = fileURLToPath(new URL('./lib/instant-worker.ts', import.meta.url));
const HERE = fileURLToPath(new URL('..', import.meta.url));

const program = new Command()
  .name('npm run bench:front-door --')
  .description('Measure the front door alone (web tier, queues, S3) with workers that answer at once.')
  .option(
    '--web-processes <list>',
    'web process counts to compare, comma-separated; a count may carry settings: 2:RESPONSE_POLLERS=1',
    '1,2',
  )
  .option('--requests <n>', 'requests per workload', positiveInt, 1000)
  .option('--concurrency <n>', 'requests in flight at once', positiveInt, 100)
  .option('--instant-workers <n>', 'workers that answer at once', positiveInt, 2)
  .option('--rounds <n>', 'times each configuration runs, in turn', positiveInt, 1)
  .option('--web-from <dir>', 'also run (as "before") the web tier of another checkout, with one process')
  .option('--json', 'print the results as one JSON object');

interface Options {
  webProcesses: string;
  requests: number;
  concurrency: number;
  instantWorkers: number;
  rounds: number;
  webFrom?: string;
  json?: boolean;
}

interface Configuration {
  readonly name: string;
  readonly processes: number;
  /** The checkout whose web tier runs. */
  readonly root: string;
  /** Settings of this configuration's web tier besides the count. */
  readonly settings?: Record<string, string>;
}

interface Measured {
  readonly configuration: string;
  readonly round: number;
  readonly workload: WorkloadResult;
  /** CPU ms per request: the web tier (every web process and their supervisor), and each other kind. */
  readonly cpuPerRequestMs: {
    readonly webTier: number;
    readonly supervisor: number;
    readonly emulator: number;
    readonly workers: number;
    readonly loadGenerator: number;
  };
  /** Requests each web process took (from its answers' state header). */
  readonly requestsByWebProcess: readonly number[];
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** The processes whose parent is `pid`, and theirs, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function forkChild(main: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return fork(main, args, { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function measure(o: Options, c: Configuration, roundNo: number): Promise<Measured> {
  const dataDir = await mkdtemp(join(tmpdir(), 'facefleet-front-door-'));
  const quiet = pino({ level: 'silent' });
  const emulator = await EmulatorProcess.start({
    port: 0,
    dynamodbPort: 0,
    env: { DATA_DIR: dataDir },
    stopGraceMs: 10_000,
    logger: quiet,
    onGiveUp: (err) => log(`the emulator keeps dying: ${err.message}`),
  });
  const children: ChildProcess[] = [];
  try {
    const port = await freePort();
    const settings = {
      FACEFLEET_STACK: 'local',
      AWS_ENDPOINT_URL: emulator.endpoint,
      EMULATOR_PORT: String(emulator.port),
      DATA_DIR: dataDir,
      RESOURCE_PREFIX: `door-${randomBytes(3).toString('hex')}`,
      HOST: '127.0.0.1',
      PORT: String(port),
      WEB_PROCESSES: String(c.processes),
      ...c.settings,
      // No autoscaler runs: its status is not asked for.
      AUTOSCALER_STATUS_URL: 'http://127.0.0.1:9/status',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
    };
    const env = childEnvironment(settings);
    const config = loadConfig(env);
    const s3 = createS3Client(config);
    const sqs = createSqsClient(config);
    await ensureResources(config, s3, sqs);
    s3.destroy();
    sqs.destroy();
    const labelsFile = `${COURSE}/labels.csv`;
    for (let i = 0; i < o.instantWorkers; i++) children.push(forkChild(INSTANT_WORKER, [resolve(labelsFile)], env));
    const web = forkChild(join(c.root, 'src/web-tier/main.ts'), [], env);
    children.push(web);
    const url = `http://127.0.0.1:${port}`;
    await until(async () => (await fetch(`${url}/readyz`)).ok, 60_000, 'the web tier');
    if (c.processes > 1)
      await until(async () => descendants(web.pid!).length >= c.processes, 60_000, 'every web process');
    const folder = `${COURSE}/images`;
    const labels = await loadLabels(labelsFile);
    const run = async (count: number, tally?: Map<string, number>) =>
      runWorkload({
        url: new URL(`${url}/`),
        folder,
        images: await pickImages(folder, count, 'first', 1),
        concurrency: o.concurrency,
        freshConnection: true,
        labels,
        ...(tally ? { onState: (state) => tally.set(state.web ?? '?', (tally.get(state.web ?? '?') ?? 0) + 1) } : {}),
      });
    // Warm up (connections, JIT, the emulator's queues), then measure.
    await run(Math.min(200, o.requests));
    const webPids = [web.pid!, ...descendants(web.pid!)];
    const workerPids = children.slice(0, o.instantWorkers).map((w) => w.pid!);
    const cpu = () => {
      const sum = (pids: number[]) => pids.reduce((ms, pid) => ms + (processCpuMs(pid) ?? 0), 0);
      const own = process.cpuUsage();
      return {
        webTier: sum(webPids),
        supervisor: c.processes > 1 ? sum([web.pid!]) : 0,
        emulator: sum([emulator.pid]),
        workers: sum(workerPids),
        loadGenerator: (own.user + own.system) / 1000,
      };
    };
    const before = cpu();
    const tally = new Map<string, number>();
    const workload = await run(o.requests, tally);
    const after = cpu();
    const per = (k: keyof typeof before) => round((after[k] - before[k]) / workload.totalRequests, 2);
    return {
      configuration: c.name,
      round: roundNo,
      workload,
      cpuPerRequestMs: {
        webTier: per('webTier'),
        supervisor: per('supervisor'),
        emulator: per('emulator'),
        workers: per('workers'),
        loadGenerator: per('loadGenerator'),
      },
      requestsByWebProcess: [...tally.values()].sort((a, b) => b - a),
    };
  } finally {
    for (const child of children.reverse()) await stop(child);
    await emulator.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const o = program.parse().opts<Options>();
  if (!existsSync(`${COURSE}/images`))
    throw new Error(`the course images are not at ${resolve(COURSE)}; the benchmark needs ../shared/datasets`);
  const configurations: Configuration[] = [
    ...(o.webFrom ? [{ name: 'before (1 process)', processes: 1, root: resolve(o.webFrom) }] : []),
    ...o.webProcesses.split(',').map((spec) => {
      const [count = '', ...pairs] = spec.trim().split(':');
      const processes = positiveInt(count);
      const settings = Object.fromEntries(pairs.map((p) => p.split('=') as [string, string]));
      const extra = pairs.length ? ` (${pairs.join(', ')})` : '';
      return { name: `${processes} web process${processes > 1 ? 'es' : ''}${extra}`, processes, root: HERE, settings };
    }),
  ];
  const results: Measured[] = [];
  for (let r = 1; r <= o.rounds; r++) {
    for (const c of configurations) {
      log(`round ${r}: ${c.name}, ${o.requests} requests, ${o.concurrency} at once`);
      results.push(await measure(o, c, r));
    }
  }
  const cpu = cpuInfo();
  const machine = { cores: availableParallelism(), cpuModel: cpu.model, node: process.version };
  const record = { date: new Date().toISOString(), machine, options: o, results };
  if (o.json) {
    console.log(JSON.stringify(record, null, 2));
    return;
  }
  console.log(
    `front door alone, ${new Date().toISOString().slice(0, 10)}: ${machine.cores} cores, ${machine.cpuModel}, ` +
      `Node ${machine.node}; ${o.instantWorkers} instant workers; ${o.requests} requests, ${o.concurrency} at once`,
  );
  for (const m of results) {
    const w = m.workload;
    const c = m.cpuPerRequestMs;
    console.log(
      `  ${m.configuration.padEnd(20)} round ${m.round}: ${round(w.requestsPerSecond)} requests/s, ` +
        `p50 ${w.latencyMs.p50} ms, p99 ${w.latencyMs.p99} ms; correct ${w.correct}, wrong ${w.wrong}, ` +
        `failed ${w.failed}; CPU ms per request: web tier ${c.webTier}` +
        (c.supervisor ? ` (supervisor ${c.supervisor})` : '') +
        `, emulator ${c.emulator}, instant workers ${c.workers}, load generator ${c.loadGenerator}; ` +
        `requests by web process ${m.requestsByWebProcess.join(' / ')}`,
    );
  }
  const mean = (name: string, f: (m: Measured) => number) => {
    const of = results.filter((m) => m.configuration === name);
    return of.reduce((s, m) => s + f(m), 0) / of.length;
  };
  const base = configurations.find(
    (c) => c.processes === 1 && c.root === HERE && Object.keys(c.settings ?? {}).length === 0,
  )?.name;
  if (base) {
    for (const c of configurations.filter((x) => x.name !== base)) {
      const rps = mean(c.name, (m) => m.workload.requestsPerSecond) / mean(base, (m) => m.workload.requestsPerSecond);
      const webCpu = mean(c.name, (m) => m.cpuPerRequestMs.webTier) / mean(base, (m) => m.cpuPerRequestMs.webTier);
      console.log(`  ${c.name} ÷ ${base}: requests/s ${round(rps, 3)}, web-tier CPU per request ${round(webCpu, 3)}`);
    }
  }
  const all = (m: Measured) =>
    Object.values(m.cpuPerRequestMs).reduce((s, v) => s + v, 0) - m.cpuPerRequestMs.supervisor;
  console.log(
    `  ceiling here: ${machine.cores} cores ÷ CPU of every process per request ≈ ` +
      results.map((m) => `${round((machine.cores * 1000) / all(m))} requests/s (${m.configuration})`).join(', '),
  );
  if (results.some((m) => m.workload.failed + m.workload.wrong > 0)) process.exitCode = 1;
}

try {
  await main();
} catch (err) {
  console.error(`bench:front-door: ${(err as Error).message}`);
  process.exitCode = 2;
}
