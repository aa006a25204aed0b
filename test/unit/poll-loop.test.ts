/** The shared loop: rounds, back-off after failures, and both ways of stopping. */
import { describe, expect, it } from 'vitest';
import { doublingBackoff, PollLoop } from '../../src/shared/poll-loop.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('PollLoop', () => {
  it('runs rounds until stopped, and reports each failure with its count in a row', async () => {
    const outcomes = ['ok', 'fail', 'fail', 'ok', 'fail'];
    const errors: [string, number][] = [];
    let rounds = 0;
    const loop = new PollLoop({
      round: async () => {
        const outcome = outcomes[rounds++] ?? 'ok';
        await tick();
        if (outcome === 'fail') throw new Error(`round ${rounds}`);
      },
      backoffMs: () => 1,
      onError: (err, failures) => errors.push([(err as Error).message, failures]),
      abortRoundOnStop: false,
    });
    loop.start();
    while (rounds < 7) await tick();
    await loop.stop();
    expect(errors).toEqual([
      ['round 2', 1],
      ['round 3', 2],
      ['round 5', 1],
    ]);
    const after = rounds;
    await new Promise((r) => setTimeout(r, 20));
    expect(rounds).toBe(after);
    expect(loop.isRunning).toBe(false);
  });

  it('lets the round in progress finish when it must not be aborted', async () => {
    let finished = false;
    let seen: AbortSignal | undefined;
    const loop = new PollLoop({
      round: async (signal) => {
        seen = signal;
        await new Promise((r) => setTimeout(r, 50));
        finished = true;
      },
      backoffMs: () => 1,
      onError: () => expect.fail('no failure expected'),
      abortRoundOnStop: false,
    });
    loop.start();
    await tick();
    await loop.stop();
    expect(finished).toBe(true);
    expect(seen?.aborted).toBe(false);
  });

  it('aborts the round in progress, and says nothing of the failure that causes', async () => {
    const errors: unknown[] = [];
    const loop = new PollLoop({
      round: (signal) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
      backoffMs: () => 1,
      onError: (err) => errors.push(err),
      abortRoundOnStop: true,
    });
    loop.start();
    await tick();
    await loop.stop();
    expect(errors).toEqual([]);
  });

  it('stops during a long pause without waiting it out', async () => {
    const loop = new PollLoop({
      round: async () => undefined,
      intervalMs: 60_000,
      backoffMs: () => 60_000,
      onError: () => undefined,
      abortRoundOnStop: false,
    });
    loop.start();
    await tick();
    const started = Date.now();
    await loop.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('waits one interval before the first round when told to', async () => {
    let rounds = 0;
    const loop = new PollLoop({
      round: async () => {
        rounds++;
      },
      intervalMs: 60_000,
      pauseFirst: true,
      backoffMs: () => 60_000,
      onError: () => undefined,
      abortRoundOnStop: false,
    });
    loop.start();
    await new Promise((r) => setTimeout(r, 30));
    await loop.stop();
    expect(rounds).toBe(0);
  });
});

describe('doublingBackoff', () => {
  it.each([
    [1, 2000],
    [2, 4000],
    [4, 16_000],
    [5, 30_000],
    [50, 30_000],
  ])('after %d failures waits %d ms', (failures, ms) => {
    expect(doublingBackoff(1000, 30_000)(failures)).toBe(ms);
  });
});
