/**
 * The course on a simulated Auto Scaling group (npm run simulate:aws): the real policy, controller, driver and
 * instance lifecycle against the fake group, in accelerated time. What a first AWS run must show holds in
 * every scenario: the cap, the desired capacity the policy asked for and no more, no busy instance terminated,
 * every request answered, the warm pool at its size, and back to zero.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { simulate, type SimulationRun } from '../../scripts/lib/aws-simulation.js';
import { awsSimulationOptions, SCENARIOS } from '../../scripts/simulate-aws.js';
import { newScratchDir } from '../helpers/data-dirs.js';

describe('the course on a simulated Auto Scaling group', () => {
  const runs = new Map<string, SimulationRun>();
  const dir = newScratchDir('facefleet-simulation-');

  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
    const run = await simulate(scenario, awsSimulationOptions(join(dir, String(runs.size))));
    runs.set(scenario.name, run);
    expect(run.peakInstances).toBeLessThanOrEqual(run.cap);
    expect(run.peakDesired).toBeLessThanOrEqual(run.peakPolicyDesired);
    expect(run.busyTerminated).toBe(0);
    expect(run.unanswered).toBe(0);
    expect(run.secondsToZero).not.toBeNull();
    expect(run.poolAtEnd).toBe(scenario.warmPool);
  });

  it('answers a burst sooner from a warm pool than from new instances', () => {
    const cold = runs.get('burst of 100')!;
    const warm = runs.get('burst of 100, warm pool of 4')!;
    // New instances boot in 30–60 s; pooled ones start in 15 s.
    expect(cold.secondsToLastAnswer).toBeGreaterThan(40);
    expect(warm.secondsToLastAnswer).toBeLessThan(30);
  });

  it('prints one JSON object with a run per scenario (npm run simulate:aws -- --json)', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/simulate-aws.ts', '--json'],
      { cwd: join(import.meta.dirname, '../..') },
    );
    const { runs: printed } = JSON.parse(stdout) as { runs: Record<string, unknown>[] };
    expect(printed).toHaveLength(SCENARIOS.length);
    for (const r of printed) {
      for (const key of ['cap', 'peakInstances', 'busyTerminated', 'unanswered', 'secondsToPeak', 'secondsToZero'])
        expect(r).toHaveProperty(key);
    }
  }, 60_000);
});
