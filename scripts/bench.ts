/**
 * `npm run bench -- [--json]`: the recogniser's limit and the pipeline against it, measured side by side in
 * one run on this machine.
 *
 * 1. The limit: the engine in this process (one thread), then one process per worker fed from memory; on the
 *    course images and on the LFW images.
 * 2. The pipeline: `npm start`'s stack in a child process, with the course gallery enrolled: one request at a
 *    time on the idle system, then the course workload (1000 requests, 100 at once, fresh connections).
 * 3. The ratios: pipeline throughput ÷ multi-process limit with the same workers, and idle request latency
 *    minus single-image recognition latency (the price of S3 + SQS + HTTP).
 * 4. A timeline of the workload (queue depth, workers, completions/s) as CSV and SVG in --out.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { loadEngine } from '../src/app-tier/recognition/engine.js';
import type { AutoscalerStatus } from '../src/autoscaler/controller.js';
import { childEnvironment, loadConfig } from '../src/shared/config.js';
import type { StackReadyMessage } from '../src/shared/process.js';
import { measureInProcess, measureProcesses, type InProcessLimit, type ProcessesLimit } from './lib/limit.js';
import { TimelineRecorder, timelineCsv, timelineSvg, type TimelineSample } from './lib/timeline.js';
import { positiveInt } from './lib/options.js';
import { loadLabels, pickImages, runWorkload, type WorkloadResult } from './lib/workload.js';

const COURSE = '../shared/datasets/cse546-face-images-1000';
const LFW = '../shared/datasets/lfw-view1-train';

const program = new Command()
  .name('npm run bench --')
  .description('Measure the recogniser limit and the pipeline against it, in one run.')
  .option('--requests <n>', 'requests in the pipeline workload', positiveInt, 1000)
  .option('--concurrency <n>', 'requests in flight at once', positiveInt, 100)
  .option('--idle-requests <n>', 'one-at-a-time requests for the idle latency', positiveInt, 30)
  .option('--limit-images <n>', 'images per limit measurement', positiveInt, 300)
  .option('--workers <n>', 'worker processes (default: one per core)', positiveInt, availableParallelism())
  .option('--out <dir>', 'folder for the timeline CSV/SVG and the JSON record', 'bench-results')
  .option(
    '--scale-from-zero',
    'let the autoscaler start the workload with no workers (the ratio then includes scale-out)',
  )
  .option('--json', 'print the results as one JSON object');

interface Options {
  requests: number;
  concurrency: number;
  idleRequests: number;
  limitImages: number;
  workers: number;
  out: string;
  scaleFromZero?: boolean;
  json?: boolean;
}

/** The autoscaler's view, as a person watching would read it: GET /status on the web tier. */
async function readStatus(webUrl: string): Promise<{ visible: number; inFlight: number; workers: number }> {
  const res = await fetch(`${webUrl}/status`);
  if (!res.ok) throw new Error(`GET /status answered ${res.status}`);
  const { queue, workers } = (await res.json()) as AutoscalerStatus;
  return { ...queue, workers: workers.starting + workers.running + workers.stopping };
}

async function fleetSize(webUrl: string): Promise<number> {
  return readStatus(webUrl).then(
    (s) => s.workers,
    () => Number.POSITIVE_INFINITY,
  );
}

const log = (line: string) => process.stderr.write(`${line}\n`);

interface DatasetLimit {
  readonly inProcess: InProcessLimit;
  readonly processes: ProcessesLimit;
}

async function measureLimit(o: Options, folder: string): Promise<DatasetLimit> {
  const paths = (await pickImages(folder, o.limitImages, 'first', 1)).map((f) => join(folder, f));
  const engine = await loadEngine(loadConfig().recognition);
  try {
    const inProcess = await measureInProcess(engine, paths);
    const processes = await measureProcesses(o.workers, paths);
    return { inProcess, processes };
  } finally {
    await engine.close();
  }
}

/** `npm start`'s stack in a child process, on free ports with its own resource names. */
async function startStack(
  o: Options,
): Promise<{ child: ChildProcess; ready: StackReadyMessage; env: NodeJS.ProcessEnv }> {
  const env = childEnvironment({
    PORT: '0',
    HOST: '127.0.0.1',
    EMULATOR_PORT: '0',
    RESOURCE_PREFIX: `bench-${randomBytes(3).toString('hex')}`,
    // A fixed fleet: the ratio compares the pipeline with the limit of the same number of workers.
    MIN_WORKERS: o.scaleFromZero ? '0' : String(o.workers),
    MAX_WORKERS: String(o.workers),
    AUTOSCALER_PORT: '0',
    GALLERY_REFRESH_SECONDS: '1',
    // npm start's own log level (one line per request at info), written to nowhere: the cost stays measured.
    LOG_FORMAT: 'json',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const child = fork('src/local/main.ts', [], {
    execArgv: ['--import', 'tsx'],
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = await new Promise<StackReadyMessage>((resolve, reject) => {
    child.on('message', (m: StackReadyMessage) => {
      if (m.type === 'facefleet:stack-ready') resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`the stack exited with code ${code} before it was ready`)));
  });
  return { child, ready, env: { ...env, AWS_ENDPOINT_URL: ready.endpoint } };
}

async function stopStack(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface PipelineResult {
  readonly workers: number;
  readonly idle: WorkloadResult;
  readonly workload: WorkloadResult;
  readonly timeline: readonly TimelineSample[];
}

async function measurePipeline(o: Options): Promise<PipelineResult> {
  const { child, ready, env } = await startStack(o);
  try {
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/enroll.ts', '--images', `${COURSE}/images`, '--labels', `${COURSE}/labels.csv`],
      { env },
    );
    const url = new URL(`${ready.webUrl}/`);
    const folder = `${COURSE}/images`;
    const labels = await loadLabels(`${COURSE}/labels.csv`);
    const run = async (count: number, concurrency: number, onAnswer?: () => void, stageTimings = false) =>
      runWorkload({
        stageTimings,
        url,
        folder,
        images: await pickImages(folder, count, 'first', 1),
        concurrency,
        freshConnection: true,
        labels,
        onAnswer,
      });
    // Until the workers have loaded the gallery, answers are "no gallery"; then warm every worker up.
    const deadline = Date.now() + 60_000;
    while ((await run(1, 1)).correct !== 1) {
      if (Date.now() > deadline) throw new Error('the stack did not answer correctly within 60 s of enrolling');
      await new Promise((r) => setTimeout(r, 500));
    }
    await run(o.workers * 10, o.workers * 10);
    log(`pipeline: ${o.idleRequests} requests one at a time on the idle system`);
    const idle = await run(o.idleRequests, 1, undefined, true);

    const recorder = new TimelineRecorder(() => readStatus(ready.webUrl), 500);
    if (o.scaleFromZero) {
      log('pipeline: waiting for the fleet to scale in to 0 before the workload');
      const by = Date.now() + 60_000;
      while ((await fleetSize(ready.webUrl)) > 0 && Date.now() < by) await new Promise((r) => setTimeout(r, 500));
    }
    log(`pipeline: ${o.requests} requests, ${o.concurrency} at once, a fresh connection each`);
    recorder.start();
    const workload = await run(o.requests, o.concurrency, () => recorder.completedOne());
    // Keep recording until the fleet is back at its minimum (scale-in), or 30 s.
    const settleBy = Date.now() + 30_000;
    do await new Promise((r) => setTimeout(r, 1000));
    while (Date.now() < settleBy && (await fleetSize(ready.webUrl)) > (o.scaleFromZero ? 0 : o.workers));
    const timeline = await recorder.stop();
    return { workers: o.workers, idle, workload, timeline };
  } finally {
    await stopStack(child);
  }
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const o = program.parse().opts<Options>();
  if (!existsSync(`${COURSE}/images`)) {
    throw new Error(`the course images are not at ${resolve(COURSE)}; the benchmark needs ../shared/datasets`);
  }
  const machine = machineInfo();
  log(`limit: course images (${o.limitImages}, in process, then ${o.workers} processes)`);
  const course = await measureLimit(o, `${COURSE}/images`);
  let lfw: DatasetLimit | undefined;
  if (existsSync(`${LFW}/images`)) {
    log(`limit: LFW images (${o.limitImages}, in process, then ${o.workers} processes)`);
    lfw = await measureLimit(o, `${LFW}/images`);
  } else {
    log(`limit: skipping LFW, ${resolve(LFW)} is absent`);
  }
  const pipeline = await measurePipeline(o);

  const result = summarize(o, machine, course, lfw, pipeline);

  await mkdir(o.out, { recursive: true });
  const stamp = result.date.replace(/[:.]/g, '-');
  const base = join(o.out, `bench-${stamp}`);
  await writeFile(`${base}.json`, JSON.stringify(result, null, 2));
  await writeFile(`${base}-timeline.csv`, timelineCsv(pipeline.timeline));
  await writeFile(
    `${base}-timeline.svg`,
    await timelineSvg(
      pipeline.timeline,
      `${pipeline.workload.totalRequests} requests, ${o.concurrency} at once, ${pipeline.workers} workers`,
    ),
  );
  if (o.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.log(report(result, base));
  }
  log(`wrote ${base}.json, -timeline.csv and -timeline.svg`);
  if (pipeline.workload.failed + pipeline.workload.wrong > 0) process.exitCode = 1;
}

function machineInfo() {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGiB: round(totalmem() / 2 ** 30),
  };
}

/** The record of one run: what --json prints and the JSON file holds. */
function summarize(
  o: Options,
  machine: ReturnType<typeof machineInfo>,
  course: DatasetLimit,
  lfw: DatasetLimit | undefined,
  pipeline: PipelineResult,
) {
  return {
    date: new Date().toISOString(),
    machine,
    limit: {
      imagesPerSecond: round(course.inProcess.imagesPerSecond),
      singleImageMs: round(course.inProcess.singleImageMs, 2),
      workers: o.workers,
      workersImagesPerSecond: round(course.processes.imagesPerSecond),
      course,
      lfw,
    },
    pipeline: {
      workers: pipeline.workers,
      requests: pipeline.workload.totalRequests,
      concurrency: o.concurrency,
      requestsPerSecond: round(pipeline.workload.requestsPerSecond),
      latencyMs: pipeline.workload.latencyMs,
      correct: pipeline.workload.correct,
      failed: pipeline.workload.failed,
      wrong: pipeline.workload.wrong,
      idleLatencyMs: pipeline.idle.latencyMs.p50,
      idle: pipeline.idle.latencyMs,
      idleStagesMs: pipeline.idle.stagesMs,
    },
    ratios: {
      throughput: round(pipeline.workload.requestsPerSecond / course.processes.imagesPerSecond, 3),
      latencyOverheadMs: round(pipeline.idle.latencyMs.p50 - course.inProcess.singleImageMs),
    },
  };
}

function report(r: ReturnType<typeof summarize>, base: string): string {
  const m = r.machine;
  const line = (name: string, d: DatasetLimit) =>
    `  ${name.padEnd(7)} in process ${round(d.inProcess.imagesPerSecond)} images/s ` +
    `(single image ${round(d.inProcess.singleImageMs, 2)} ms, no face in ${d.inProcess.noFace}/${d.inProcess.images}); ` +
    `${d.processes.processes} processes ${round(d.processes.imagesPerSecond)} images/s`;
  const p = r.pipeline;
  return [
    `machine: ${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}`,
    'limit (recogniser alone, images from memory):',
    line('course', r.limit.course),
    ...(r.limit.lfw ? [line('LFW', r.limit.lfw)] : []),
    `pipeline (npm start's stack, ${p.workers} workers):`,
    `  ${p.requests} requests at concurrency ${p.concurrency}: ${p.requestsPerSecond} requests/s; ` +
      `correct ${p.correct}, wrong ${p.wrong}, failed ${p.failed}; ` +
      `latency p50 ${p.latencyMs.p50} ms, p90 ${p.latencyMs.p90} ms, p99 ${p.latencyMs.p99} ms, max ${p.latencyMs.max} ms`,
    `  idle, one at a time: p50 ${p.idle.p50} ms, p90 ${p.idle.p90} ms, max ${p.idle.max} ms`,
    `  idle, mean ms per stage: ${Object.entries(p.idleStagesMs ?? {})
      .map(([stage, ms]) => `${stage.replace(/Ms$/, '')} ${ms}`)
      .join(', ')}`,
    'ratios:',
    `  throughput: pipeline ÷ ${r.limit.workers}-process limit = ${r.ratios.throughput}`,
    `  latency overhead: idle request − single image = ${r.ratios.latencyOverheadMs} ms (S3 + SQS + HTTP)`,
    `timeline: ${base}-timeline.csv, ${base}-timeline.svg`,
  ].join('\n');
}

try {
  await main();
} catch (err) {
  console.error(`bench: ${(err as Error).message}`);
  process.exitCode = 2;
}
