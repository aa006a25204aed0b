/** The scaling decision, table by table. */
import { describe, expect, it } from 'vitest';
import type { FleetWorker, WorkerState } from '../../src/autoscaler/fleet.js';
import { lowestFreeNumbers } from '../../src/autoscaler/fleet.js';
import { decide, type PolicyOptions } from '../../src/autoscaler/policy.js';

const policy: PolicyOptions = { messagesPerWorker: 4, minWorkers: 0, maxWorkers: 19, scaleInIdleMs: 3000 };

/**
 * Workers from a compact spec, numbered 1, 2, … in order: "r" running (idleness unknown), "b" running and busy,
 * "i" running and idle, "s" starting, "x" stopping.
 */
function fleet(spec: string): FleetWorker[] {
  const states: Record<string, WorkerState> = {
    r: 'running',
    b: 'running',
    i: 'running',
    s: 'starting',
    x: 'stopping',
  };
  return [...spec].map((c, i) => ({
    id: `w-${i + 1}`,
    number: i + 1,
    state: states[c]!,
    ...(c === 'b' ? { busy: true } : c === 'i' ? { busy: false } : {}),
  }));
}

describe('decide', () => {
  it.each([
    // visible, inFlight, emptyForMs, fleet, desired, action
    [0, 0, 60_000, '', 0, { kind: 'none' }],
    [1, 0, 0, '', 1, { kind: 'launch', count: 1 }],
    [4, 0, 0, '', 1, { kind: 'launch', count: 1 }],
    [5, 0, 0, '', 2, { kind: 'launch', count: 2 }],
    [100, 0, 0, '', 19, { kind: 'launch', count: 19 }],
    [1000, 0, 0, '', 19, { kind: 'launch', count: 19 }],
    // In-flight messages count as work: a burst being processed keeps its workers.
    [0, 40, 0, 'rrrrrrrrrr', 10, { kind: 'none' }],
    [30, 10, 0, 'rrrrrrrr', 10, { kind: 'launch', count: 2 }],
    // Starting workers count: no second launch for the same backlog (restarts, retries).
    [40, 0, 0, 'ssssssssss', 10, { kind: 'none' }],
    [40, 0, 0, 'rrrsss', 10, { kind: 'launch', count: 4 }],
    // Stopping workers count against the cap until they are gone.
    [100, 0, 0, 'rrrrrrrrrrrrrrrrxxx', 19, { kind: 'none' }],
    [100, 0, 0, 'rrrrrrrrrrrrrrxxx', 19, { kind: 'launch', count: 2 }],
  ] as const)(
    'visible %i, in flight %i, empty %i ms, fleet "%s" → desired %i, %j',
    (visible, inFlight, emptyFor, spec, desired, action) => {
      const d = decide({ visible, inFlight, queueEmptyForMs: emptyFor, workers: fleet(spec) }, policy);
      expect(d.desired).toBe(desired);
      expect(d.action).toEqual(action);
    },
  );

  it('never stops a running worker while anything is queued or in flight', () => {
    const backlogs: [number, number][] = [
      [1, 0],
      [0, 1],
      [3, 5],
    ];
    for (const [visible, inFlight] of backlogs) {
      const d = decide({ visible, inFlight, queueEmptyForMs: 0, workers: fleet('rrrrrrrrrr') }, policy);
      expect(d.action).toEqual({ kind: 'none' });
      expect(d.desired).toBeLessThan(10);
    }
  });

  it('stops idle running workers, newest first, once the queue has been empty for the idle window', () => {
    const workers = fleet('rrrr');
    expect(decide({ visible: 0, inFlight: 0, queueEmptyForMs: 2999, workers }, policy).action).toEqual({
      kind: 'none',
    });
    expect(decide({ visible: 0, inFlight: 0, queueEmptyForMs: 3000, workers }, policy).action).toEqual({
      kind: 'stop',
      ids: ['w-4', 'w-3', 'w-2', 'w-1'],
    });
    const keepTwo = decide({ visible: 0, inFlight: 0, queueEmptyForMs: 5000, workers }, { ...policy, minWorkers: 2 });
    expect(keepTwo).toMatchObject({ desired: 2, action: { kind: 'stop', ids: ['w-4', 'w-3'] } });
  });

  it('may stop workers that are still starting at any time: they hold nothing', () => {
    const d = decide({ visible: 4, inFlight: 0, queueEmptyForMs: 0, workers: fleet('rsss') }, policy);
    expect(d).toMatchObject({ desired: 1, action: { kind: 'stop', ids: ['w-4', 'w-3', 'w-2'] } });
  });

  it('counts workers by state', () => {
    const d = decide({ visible: 0, inFlight: 8, queueEmptyForMs: 0, workers: fleet('rrsx') }, policy);
    expect(d.workers).toEqual({ starting: 1, running: 2, stopping: 1 });
  });

  it.each([
    [{ messagesPerWorker: 1, minWorkers: 0, maxWorkers: 2, scaleInIdleMs: 0 }, 10, 2],
    [{ messagesPerWorker: 10, minWorkers: 0, maxWorkers: 19, scaleInIdleMs: 0 }, 11, 2],
    [{ messagesPerWorker: 4, minWorkers: 3, maxWorkers: 19, scaleInIdleMs: 0 }, 0, 3],
  ])('honours its options: %j with backlog %i → %i', (options, visible, desired) => {
    expect(decide({ visible, inFlight: 0, queueEmptyForMs: 0, workers: [] }, options).desired).toBe(desired);
  });
});

describe('scale-in under a backlog (a trickle that never empties the queue)', () => {
  it.each([
    // visible, inFlight, overProvisionedForMs, fleet, action
    // A trickle of one message needs one worker: the idle surplus goes once it has lasted the idle window.
    [0, 1, 3000, 'bi', { kind: 'stop', ids: ['w-2'] }],
    [1, 0, 3000, 'ii', { kind: 'stop', ids: ['w-2'] }],
    [0, 1, 2999, 'bi', { kind: 'none' }],
    // Only idle workers: a busy one is never picked, even when it is the newest.
    [0, 1, 10_000, 'ib', { kind: 'stop', ids: ['w-1'] }],
    [0, 2, 10_000, 'bb', { kind: 'none' }],
    // A worker whose idleness is unknown (EC2 without a group) is never stopped under a backlog.
    [0, 1, 10_000, 'rr', { kind: 'none' }],
    [0, 1, 10_000, 'ri', { kind: 'stop', ids: ['w-2'] }],
    // Never below what the backlog needs: 5 messages need 2 workers.
    [5, 0, 10_000, 'biii', { kind: 'stop', ids: ['w-4', 'w-3'] }],
    // Starting workers go first, then idle running ones, newest first.
    [1, 0, 10_000, 'iis', { kind: 'stop', ids: ['w-3', 'w-2'] }],
  ] as const)(
    'visible %i, in flight %i, over-provisioned %i ms, fleet "%s" → %j',
    (visible, inFlight, overFor, spec, action) => {
      const d = decide(
        { visible, inFlight, queueEmptyForMs: 0, overProvisionedForMs: overFor, workers: fleet(spec) },
        policy,
      );
      expect(d.action).toEqual(action);
    },
  );

  it('says why it stops a worker under a backlog', () => {
    const d = decide(
      { visible: 0, inFlight: 1, queueEmptyForMs: 0, overProvisionedForMs: 4200, workers: fleet('bi') },
      policy,
    );
    expect(d.reason).toBe('backlog 1 needs 1 for 4.2 s; stopping idle workers');
  });
});

describe('on arrivals (a trickle keeps one warm worker)', () => {
  /** A round of a trickle of `perSecond` requests, each 30 ms on a worker, the last `agoMs` ago. */
  const traffic = (perSecond: number, agoMs: number | undefined) => ({
    perSecond,
    secondsPerMessage: 0.03,
    ...(agoMs === undefined ? {} : { lastArrivalAgoMs: agoMs }),
  });
  it.each([
    // visible, inFlight, queue empty for, over-provisioned for, arrivals, fleet → desired, action
    // A trickle whose requests wait 40 ms in the queue: the queue looks empty, but its worker stays.
    [0, 0, 10_000, 0, traffic(2, 400), 'i', 1, { kind: 'none' }],
    [0, 0, 10_000, 0, traffic(2, 400), 'r', 1, { kind: 'none' }],
    // ... and a trickle that finds no worker (after a pause) gets one at once.
    [0, 0, 0, 0, traffic(0.5, 100), '', 1, { kind: 'launch', count: 1 }],
    // A burst on a trickle: the backlog decides, as fast as today.
    [40, 0, 0, 0, traffic(2, 100), 'i', 10, { kind: 'launch', count: 9 }],
    // After the burst the trickle needs one: the surplus goes once it has lasted the idle window.
    [0, 0, 3000, 3000, traffic(2, 300), 'iiii', 1, { kind: 'stop', ids: ['w-4', 'w-3', 'w-2'] }],
    [0, 0, 3000, 2999, traffic(2, 300), 'iiii', 1, { kind: 'none' }],
    // A trickle that stops: no request for the idle window, and the last worker goes.
    [0, 0, 3000, 3000, traffic(0.1, 3000), 'i', 0, { kind: 'stop', ids: ['w-1'] }],
    [0, 0, 3000, 3000, traffic(0.1, 2999), 'i', 1, { kind: 'none' }],
    // A rate that needs more than one: 40 requests/s of 50 ms at 70 % is 3 workers.
    [
      0,
      0,
      10_000,
      0,
      { perSecond: 40, secondsPerMessage: 0.05, lastArrivalAgoMs: 10 },
      'ii',
      3,
      { kind: 'launch', count: 1 },
    ],
    // After a burst the smoothed rate is still high, but no request has arrived for the idle window: nobody.
    [
      0,
      0,
      3000,
      3000,
      { perSecond: 50, secondsPerMessage: 0.05, lastArrivalAgoMs: 3000 },
      'ii',
      0,
      { kind: 'stop', ids: ['w-2', 'w-1'] },
    ],
    // Never above the cap, whatever the rate.
    [
      0,
      0,
      0,
      0,
      { perSecond: 10_000, secondsPerMessage: 0.05, lastArrivalAgoMs: 10 },
      '',
      19,
      { kind: 'launch', count: 19 },
    ],
  ] as const)(
    'visible %i, in flight %i, empty %i ms, over-provisioned %i ms, %j, fleet "%s" → desired %i, %j',
    (visible, inFlight, emptyFor, overFor, arrivals, spec, desired, action) => {
      const d = decide(
        {
          visible,
          inFlight,
          queueEmptyForMs: emptyFor,
          overProvisionedForMs: overFor,
          arrivals,
          workers: fleet(spec),
        },
        policy,
      );
      expect(d.desired).toBe(desired);
      expect(d.action).toEqual(action);
    },
  );

  it('says which need decided', () => {
    const round = (arrivals: object, visible = 0) =>
      decide({ visible, inFlight: 0, queueEmptyForMs: 0, arrivals, workers: [] }, policy).reason;
    expect(round({ perSecond: 0.5, secondsPerMessage: 0.03, lastArrivalAgoMs: 1200 })).toBe(
      'a request arrived 1.2 s ago',
    );
    expect(round({ perSecond: 40, secondsPerMessage: 0.05, lastArrivalAgoMs: 10 })).toBe('40 requests/s × 0.05 s');
    expect(round({ perSecond: 2, lastArrivalAgoMs: 10 }, 12)).toBe('backlog 12');
  });
});

describe('lowestFreeNumbers', () => {
  it.each([
    [[], 3, [1, 2, 3]],
    [[1, 2, 3], 1, [4]],
    [[2, 4], 3, [1, 3, 5]],
  ])('taken %j, %i wanted → %j', (taken, count, expected) => {
    expect(lowestFreeNumbers(taken, count)).toEqual(expected);
  });
});
