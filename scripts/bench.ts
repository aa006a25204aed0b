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
 * 4. The reference: a decode plus one run of each bare model (every graph level timed), against which the
 *    engine's single-image time is a ratio; and the CPU each process kind spends per request in the pipeline.
 * 5. A timeline of the workload (queue depth, workers, completions/s) as CSV and SVG in --out.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { loadEngine } from '../src/app-tier/recognition/engine.js';
import type { AutoscalerStatus } from '../src/autoscaler/controller.js';
import { childEnvironment, loadConfig } from '../src/shared/config/config.js';
import { FleetRegistry } from '../src/shared/fleet-registry.js';
import type { StackReadyMessage } from '../src/shared/process.js';
import { measureInProcess, measureProcesses, type InProcessLimit, type ProcessesLimit } from './lib/limit.js';
import { processCpuMs, processRssMiB } from './lib/proc.js';
import {
  BareModels,
  cpuInfo,
  loopReference,
  measureModels,
  type ModelTimings,
  type Reference,
} from './lib/reference.js';
import { TimelineRecorder, timelineCsv, timelineSvg, type TimelineSample } from './lib/timeline.js';
import { positiveInt } from './lib/options.js';
import { forkStack, stopStack } from './lib/stack-process.js';
import { loadLabels, pickImages, runWorkload, type WorkloadResult } from './lib/workload.js';

const program = new Command()
  .name('npm run bench --')
  .description('Measure the recogniser limit and the pipeline against it, in one run.')
  .option('--requests <n>', 'requests in the pipeline workload', positiveInt, 1000)
  .option('--concurrency <n>', 'requests in flight at once', positiveInt, 100)
  .option('--idle-requests <n>', 'one-at-a-time requests for the idle latency', positiveInt, 30)
  .option('--limit-images <n>', 'images per limit measurement', positiveInt, 300)
  .option('--model-runs <n>', 'timed runs of each bare model at each graph level', positiveInt, 100)
  .option('--workers <n>', 'worker processes (default: one per core)', positiveInt, availableParallelism())
  .option('--out <dir>', 'folder for the timeline CSV/SVG and the JSON record', 'bench-results')
  .option(
    '--scale-from-zero',
    'let the autoscaler start the workload with no workers (the ratio then includes scale-out)',
  )
  .option(
    '--course <dir>',
    "the course's workload: images/ and labels.csv",
    '../shared/datasets/cse546-face-images-1000',
  )
  .option(
    '--lfw <dir>',
    'LFW photos for a second limit measurement (images/), skipped when absent',
    '../shared/datasets/lfw-view1-train',
  )
  .option('--json', 'print the results as one JSON object');

interface Options {
  course: string;
  lfw: string;
  requests: number;
  concurrency: number;
  idleRequests: number;
  limitImages: number;
  modelRuns: number;
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
  /** Decode + each bare model, timed image by image beside the engine. */
  readonly reference: Reference;
  /** The engine's single-image time ÷ the reference's: what the engine adds around its models. */
  readonly engineOverReference: number;
  /** The same reference timed in tight loops (warm caches for each part): the floor. */
  readonly loopReference: Reference;
  readonly engineOverLoopReference: number;
}

async function imagePaths(o: Options, folder: string): Promise<string[]> {
  return (await pickImages(folder, o.limitImages, 'first', 1)).map((f) => join(folder, f));
}

async function measureLimit(o: Options, folder: string, bare: BareModels, models: ModelTimings): Promise<DatasetLimit> {
  const paths = await imagePaths(o, folder);
  const engine = await loadEngine(loadConfig().recognition);
  try {
    const loop = await loopReference(models, paths);
    const inProcess = await measureInProcess(engine, bare, paths);
    const processes = await measureProcesses(o.workers, paths);
    const { reference } = inProcess;
    return {
      inProcess,
      processes,
      reference,
      engineOverReference: inProcess.singleImageMs / reference.totalMs,
      loopReference: loop,
      engineOverLoopReference: inProcess.singleImageMs / loop.totalMs,
    };
  } finally {
    await engine.close();
  }
}

/** `npm start`'s stack in a child process, on free ports with its own resource names and data directory. */
async function startStack(o: Options) {
  const dataDir = await mkdtemp(join(tmpdir(), 'facefleet-bench-'));
  const env = childEnvironment({
    PORT: '0',
    HOST: '127.0.0.1',
    EMULATOR_PORT: '0',
    RESOURCE_PREFIX: `bench-${randomBytes(3).toString('hex')}`,
    DATA_DIR: dataDir,
    // A fixed fleet: the ratio compares the pipeline with the limit of the same number of workers.
    MIN_WORKERS: o.scaleFromZero ? '0' : String(o.workers),
    MAX_WORKERS: String(o.workers),
    AUTOSCALER_PORT: '0',
    GALLERY_REFRESH_SECONDS: '1',
    // npm start's own log level (one line per request at info), written to nowhere: the cost stays measured.
    LOG_FORMAT: 'json',
  });
  const { child, ready: started } = forkStack(env);
  const ready = await started;
  return { child, ready, dataDir, env: { ...env, AWS_ENDPOINT_URL: ready.endpoint } };
}

interface PipelineResult {
  readonly workers: number;
  readonly idle: WorkloadResult;
  readonly workload: WorkloadResult;
  readonly timeline: readonly TimelineSample[];
  /** CPU ms per request of the workload, by process kind (all workers together). */
  readonly cpuPerRequestMs: CpuPerRequest;
  /** Each worker's resident memory before the workload (warmed up) and after it, in MiB. */
  readonly workerMemoryMiB: { readonly afterWarmUp: number[]; readonly afterWorkload: number[] };
}

interface CpuPerRequest {
  readonly worker: number;
  readonly webTier: number;
  readonly emulator: number;
  readonly autoscaler: number;
  readonly loadGenerator: number;
}

/** The stack's processes by kind; workers from the local fleet's registry, as the autoscaler finds them. */
function stackProcesses(ready: StackReadyMessage) {
  return {
    worker: new FleetRegistry(ready.fleetDir).entries().map((e) => e.pid),
    webTier: [ready.pids.webTier],
    emulator: [ready.pids.emulator],
    autoscaler: ready.pids.autoscaler === undefined ? [] : [ready.pids.autoscaler],
  };
}

/** Starts counting CPU; the returned function gives the CPU ms each kind used since, per request. */
function cpuMeter(ready: StackReadyMessage): (requests: number) => CpuPerRequest {
  const processes = stackProcesses(ready);
  const read = () => {
    const sum = (pids: number[]) => pids.reduce((ms, pid) => ms + (processCpuMs(pid) ?? 0), 0);
    const own = process.cpuUsage();
    return {
      worker: sum(processes.worker),
      webTier: sum(processes.webTier),
      emulator: sum(processes.emulator),
      autoscaler: sum(processes.autoscaler),
      loadGenerator: (own.user + own.system) / 1000,
    };
  };
  const before = read();
  return (requests) => {
    const after = read();
    const per = (kind: keyof CpuPerRequest) => round((after[kind] - before[kind]) / requests, 2);
    return {
      worker: per('worker'),
      webTier: per('webTier'),
      emulator: per('emulator'),
      autoscaler: per('autoscaler'),
      loadGenerator: per('loadGenerator'),
    };
  };
}

function workerMemory(ready: StackReadyMessage): number[] {
  return stackProcesses(ready).worker.map((pid) => round(processRssMiB(pid) ?? Number.NaN));
}

async function measurePipeline(o: Options): Promise<PipelineResult> {
  const { child, ready, env, dataDir } = await startStack(o);
  try {
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/enroll.ts', '--images', `${o.course}/images`, '--labels', `${o.course}/labels.csv`],
      { env },
    );
    const url = new URL(`${ready.webUrl}/`);
    const folder = `${o.course}/images`;
    const labels = await loadLabels(`${o.course}/labels.csv`);
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
    const afterWarmUp = workerMemory(ready);
    recorder.start();
    const meter = cpuMeter(ready);
    const workload = await run(o.requests, o.concurrency, () => recorder.completedOne());
    const cpuPerRequestMs = meter(workload.totalRequests);
    const afterWorkload = workerMemory(ready);
    // Keep recording until the fleet is back at its minimum (scale-in), or 30 s.
    const settleBy = Date.now() + 30_000;
    do await new Promise((r) => setTimeout(r, 1000));
    while (Date.now() < settleBy && (await fleetSize(ready.webUrl)) > (o.scaleFromZero ? 0 : o.workers));
    const timeline = await recorder.stop();
    return {
      workers: o.workers,
      idle,
      workload,
      timeline,
      cpuPerRequestMs,
      workerMemoryMiB: { afterWarmUp, afterWorkload },
    };
  } finally {
    await stopStack(child, 'SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  }
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const o = program.parse().opts<Options>();
  if (!existsSync(`${o.course}/images`)) {
    throw new Error(`the course images are not at ${resolve(o.course)}; give the course's folder with --course`);
  }
  const machine = machineInfo();
  log('reference: every model at every graph level, one thread, denormals flushed');
  const modelDir = loadConfig().recognition.modelDir;
  const bare = await BareModels.open(modelDir, (await imagePaths(o, `${o.course}/images`))[0]!);
  const models = await measureModels(modelDir, bare.inputs, o.modelRuns);
  log(`limit: course images (${o.limitImages}: engine and reference interleaved, then ${o.workers} processes)`);
  const course = await measureLimit(o, `${o.course}/images`, bare, models);
  let lfw: DatasetLimit | undefined;
  if (existsSync(`${o.lfw}/images`)) {
    log(`limit: LFW images (${o.limitImages}: engine and reference interleaved, then ${o.workers} processes)`);
    lfw = await measureLimit(o, `${o.lfw}/images`, bare, models);
  } else {
    log(`limit: skipping LFW, ${resolve(o.lfw)} is absent`);
  }
  await bare.close();
  const pipeline = await measurePipeline(o);

  const result = summarize(o, machine, models, course, lfw, pipeline);

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
  const cpu = cpuInfo();
  return {
    cores: availableParallelism(),
    cpuModel: cpu.model,
    cpuFlags: cpu.flags,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGiB: round(totalmem() / 2 ** 30),
  };
}

/** The record of one run: what --json prints and the JSON file holds. */
function summarize(
  o: Options,
  machine: ReturnType<typeof machineInfo>,
  models: ModelTimings,
  course: DatasetLimit,
  lfw: DatasetLimit | undefined,
  pipeline: PipelineResult,
) {
  const cpu = pipeline.cpuPerRequestMs;
  const cpuTotal = cpu.worker + cpu.webTier + cpu.emulator + cpu.autoscaler + cpu.loadGenerator;
  return {
    date: new Date().toISOString(),
    machine,
    limit: {
      imagesPerSecond: round(course.inProcess.imagesPerSecond),
      singleImageMs: round(course.inProcess.singleImageMs, 2),
      /** Decode + one run of each bare model, on the course images. */
      referenceMs: round(course.reference.totalMs, 2),
      workers: o.workers,
      workersImagesPerSecond: round(course.processes.imagesPerSecond),
      models,
      course,
      lfw,
    },
    pipeline: {
      workers: pipeline.workers,
      requests: pipeline.workload.totalRequests,
      concurrency: o.concurrency,
      seconds: round(pipeline.workload.totalRequests / pipeline.workload.requestsPerSecond, 2),
      requestsPerSecond: round(pipeline.workload.requestsPerSecond),
      latencyMs: pipeline.workload.latencyMs,
      correct: pipeline.workload.correct,
      failed: pipeline.workload.failed,
      wrong: pipeline.workload.wrong,
      idleLatencyMs: pipeline.idle.latencyMs.p50,
      idle: pipeline.idle.latencyMs,
      idleStagesMs: pipeline.idle.stagesMs,
      cpuPerRequestMs: cpu,
      workerMemoryMiB: pipeline.workerMemoryMiB,
    },
    ratios: {
      throughput: round(pipeline.workload.requestsPerSecond / course.processes.imagesPerSecond, 3),
      latencyOverheadMs: round(pipeline.idle.latencyMs.p50 - course.inProcess.singleImageMs),
      engineOverReference: round(course.engineOverReference, 3),
      engineOverReferenceLfw: lfw ? round(lfw.engineOverReference, 3) : undefined,
      /** Against the tight-loop reference (each part with warm caches): the floor. */
      engineOverLoopReference: round(course.engineOverLoopReference, 3),
      engineOverLoopReferenceLfw: lfw ? round(lfw.engineOverLoopReference, 3) : undefined,
      /** A worker's CPU per request ÷ the engine's single-image time: the price of its queue and S3 work. */
      workerCpuOverEngine: round(cpu.worker / course.inProcess.singleImageMs, 3),
      /**
       * The throughput ratio this machine allows at best: every process shares the same cores, so requests/s
       * cannot pass cores ÷ (CPU of all processes per request), here compared with the limit.
       */
      throughputCeiling: round((machine.cores * 1000) / cpuTotal / course.processes.imagesPerSecond, 3),
    },
  };
}

function report(r: ReturnType<typeof summarize>, base: string): string {
  const m = r.machine;
  const line = (name: string, d: DatasetLimit) =>
    `  ${name.padEnd(7)} in process ${round(d.inProcess.imagesPerSecond)} images/s ` +
    `(single image ${round(d.inProcess.singleImageMs, 2)} ms, no face in ${d.inProcess.noFace}/${d.inProcess.images}); ` +
    `${d.processes.processes} processes ${round(d.processes.imagesPerSecond)} images/s`;
  const reference = (name: string, d: DatasetLimit) =>
    `  ${name.padEnd(7)} decode ${round(d.reference.decodeMs, 2)} + detector ${round(d.reference.modelsMs.detector, 2)} ` +
    `+ landmarks ${round(d.reference.modelsMs.landmarks, 2)} + embedder ${round(d.reference.modelsMs.embedder, 2)} ` +
    `= ${round(d.reference.totalMs, 2)} ms; engine ${round(d.inProcess.singleImageMs, 2)} ms = ` +
    `${round(d.engineOverReference, 2)}x the reference\n` +
    `  ${''.padEnd(7)} in tight loops: decode ${round(d.loopReference.decodeMs, 2)} + models = ` +
    `${round(d.loopReference.totalMs, 2)} ms; engine = ${round(d.engineOverLoopReference, 2)}x`;
  const p = r.pipeline;
  const c = p.cpuPerRequestMs;
  return [
    `machine: ${m.cores} cores, ${m.cpuModel} (${m.cpuFlags.join(' ') || 'flags unknown'}), ${m.memoryGiB} GiB, ` +
      `Node ${m.node}, ${m.platform}`,
    "models, median ms per run at each graph level (one thread, denormals flushed; * = the engine's):",
    ...Object.entries(r.limit.models).map(
      ([name, { chosen, ms }]) =>
        `  ${name.padEnd(9)} ` +
        Object.entries(ms)
          .map(([level, v]) => `${level}${level === chosen ? '*' : ''} ${round(v, 2)}`)
          .join(', '),
    ),
    'reference (decode + one run of each bare model, timed after each engine image) and the engine against it:',
    reference('course', r.limit.course),
    ...(r.limit.lfw ? [reference('LFW', r.limit.lfw)] : []),
    'limit (recogniser alone, images from memory):',
    line('course', r.limit.course),
    ...(r.limit.lfw ? [line('LFW', r.limit.lfw)] : []),
    `pipeline (npm start's stack, ${p.workers} workers):`,
    `  ${p.requests} requests at concurrency ${p.concurrency} in ${p.seconds} s: ${p.requestsPerSecond} requests/s; ` +
      `correct ${p.correct}, wrong ${p.wrong}, failed ${p.failed}; ` +
      `latency p50 ${p.latencyMs.p50} ms, p90 ${p.latencyMs.p90} ms, p99 ${p.latencyMs.p99} ms, max ${p.latencyMs.max} ms`,
    `  idle, one at a time: p50 ${p.idle.p50} ms, p90 ${p.idle.p90} ms, max ${p.idle.max} ms`,
    `  idle, mean ms per stage: ${Object.entries(p.idleStagesMs ?? {})
      .map(([stage, ms]) => `${stage.replace(/Ms$/, '')} ${ms}`)
      .join(', ')}`,
    `  CPU ms per request: workers ${c.worker}, web tier ${c.webTier}, emulator ${c.emulator}, ` +
      `autoscaler ${c.autoscaler}, load generator ${c.loadGenerator}`,
    `  worker memory (MiB): ${p.workerMemoryMiB.afterWarmUp.join(', ')} warmed up; ` +
      `${p.workerMemoryMiB.afterWorkload.join(', ')} after the workload`,
    'ratios:',
    `  engine ÷ reference: ${r.ratios.engineOverReference} (course)` +
      (r.ratios.engineOverReferenceLfw === undefined ? '' : `, ${r.ratios.engineOverReferenceLfw} (LFW)`) +
      `; ÷ tight-loop reference: ${r.ratios.engineOverLoopReference} (course)` +
      (r.ratios.engineOverLoopReferenceLfw === undefined ? '' : `, ${r.ratios.engineOverLoopReferenceLfw} (LFW)`),
    `  worker CPU per request ÷ engine single image: ${r.ratios.workerCpuOverEngine}`,
    `  throughput: pipeline ÷ ${r.limit.workers}-process limit = ${r.ratios.throughput} ` +
      `(at most ${r.ratios.throughputCeiling} here, where every process shares the ${m.cores} cores)`,
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
