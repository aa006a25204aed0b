/**
 * `npm run simulate:aws -- [--json] [--out DIR]`: the course on AWS in accelerated time (scripts/lib/aws-simulation.ts):
 * the 100-request burst and a 1000-request run, each without and with a warm pool of 4, through the real
 * policy, controller, Auto Scaling driver and instance lifecycle, against a fake group that keeps AWS's timing.
 * Prints each run's figures and a timeline; with --json one object whose `runs` array holds them.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../src/shared/config/config.js';
import { COURSE_MAX_WORKERS } from '../src/shared/config/settings.js';
import { simulate, type Scenario, type SimulationOptions, type SimulationRun } from './lib/aws-simulation.js';
import { timelineSvg } from './lib/timeline.js';
import { positiveInt } from './lib/options.js';

const program = new Command()
  .name('npm run simulate:aws --')
  .description('Replay the course on a simulated Auto Scaling group, in accelerated time.')
  .option('--json', 'print one JSON object')
  .option('--out <dir>', 'write each run’s timeline as an SVG chart there')
  .option('--seconds-per-message <s>', 'a worker’s time per request', Number, 0.05)
  .option('--workers-per-instance <n>', 'workers on an instance (one per vCPU: t3.micro has 2)', positiveInt, 2)
  .option('--seed <n>', 'seeds the launch times', positiveInt, 546);

export const SCENARIOS: readonly Scenario[] = [
  { name: 'burst of 100', requests: 100, concurrency: 100, warmPool: 0 },
  { name: 'burst of 100, warm pool of 4', requests: 100, concurrency: 100, warmPool: 4 },
  { name: '1000 requests, 100 at once', requests: 1000, concurrency: 100, warmPool: 0 },
  { name: '1000 requests, 100 at once, warm pool of 4', requests: 1000, concurrency: 100, warmPool: 4 },
];

/** AWS's settings as a deployment has them (`FACEFLEET_STACK=aws`), with the timing of the fake group. */
export function awsSimulationOptions(
  scratchDir: string,
  overrides: Partial<SimulationOptions> = {},
): SimulationOptions {
  const config = loadConfig({ FACEFLEET_STACK: 'aws' });
  return {
    policy: config.autoscaler.policy,
    cap: COURSE_MAX_WORKERS,
    launchSeconds: [30, 60],
    warmStartSeconds: 15,
    secondsPerMessage: 0.05,
    workersPerInstance: 2,
    hookTimeoutSeconds: config.fleet.group.hookTimeoutSeconds,
    maxSeconds: 3600,
    seed: 546,
    scratchDir,
    ...overrides,
  };
}

function summary(r: SimulationRun): string {
  return (
    `${r.scenario}: ${r.peakInstances} of ${r.cap} instances at most, ${r.peakInService} in service at ${r.secondsToPeak} s, last answer at ` +
    `${r.secondsToLastAnswer} s, back to 0 at ${r.secondsToZero ?? 'never'} s; ${r.unanswered} unanswered, ` +
    `${r.busyTerminated} busy instances terminated, desired at most ${r.peakDesired} (the policy asked ${r.peakPolicyDesired})` +
    (r.warmPool > 0 ? `, warm pool ${r.poolAtEnd} of ${r.warmPool} at the end` : '')
  );
}

function chart(r: SimulationRun): string {
  // One line every 10 simulated seconds: instances, queue, answers.
  return r.timeline
    .filter((s) => s.t % 10 === 0)
    .map(
      (s) =>
        `  ${String(s.t).padStart(5)} s  ${'█'.repeat(s.workers).padEnd(r.cap)} ${String(s.workers).padStart(2)} instances, ` +
        `${s.visible} queued, ${s.inFlight} in flight`,
    )
    .join('\n');
}

async function main(): Promise<void> {
  const opts = program
    .parse()
    .opts<{ json?: boolean; out?: string; secondsPerMessage: number; workersPerInstance: number; seed: number }>();
  const scratch = await mkdtemp(join(tmpdir(), 'facefleet-simulation-'));
  try {
    const runs: SimulationRun[] = [];
    for (const scenario of SCENARIOS) {
      runs.push(
        await simulate(
          scenario,
          awsSimulationOptions(join(scratch, String(runs.length)), {
            secondsPerMessage: opts.secondsPerMessage,
            workersPerInstance: opts.workersPerInstance,
            seed: opts.seed,
          }),
        ),
      );
    }
    if (opts.out) {
      await mkdir(opts.out, { recursive: true });
      for (const [i, r] of runs.entries()) {
        await writeFile(
          join(opts.out, `simulate-aws-${i + 1}.svg`),
          await timelineSvg(r.timeline, `simulated AWS: ${r.scenario}`),
        );
      }
    }
    if (opts.json) {
      console.log(JSON.stringify({ runs: runs.map(({ timeline: _timeline, ...r }) => r) }, null, 2));
      return;
    }
    for (const r of runs) console.log(`${summary(r)}\n${chart(r)}\n`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
