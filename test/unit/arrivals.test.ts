/** The traffic as the autoscaler measures it (autoscaler/arrivals.ts): arrivals, time per request, last arrival. */
import { describe, expect, it } from 'vitest';
import { ArrivalMeter } from '../../src/autoscaler/arrivals.js';
import type { FleetWorker } from '../../src/autoscaler/fleet.js';

const worker = (id: string, received?: number, busyMs?: number): FleetWorker => ({
  id,
  number: Number(id.slice(-1)),
  state: 'running',
  ...(received === undefined ? {} : { received, busyMs: busyMs ?? 0 }),
});

describe('the arrival meter', () => {
  it('follows a steady trickle: two requests a second of 30 ms each', () => {
    const meter = new ArrivalMeter(10_000);
    let a = meter.observe(0, [worker('w-1', 0, 0)], 0);
    expect(a).toEqual({});
    for (let t = 1; t <= 60; t++) a = meter.observe(t * 1000, [worker('w-1', 2 * t, 60 * t)], 0);
    expect(a.perSecond).toBeCloseTo(2, 5);
    expect(a.secondsPerMessage).toBeCloseTo(0.03, 5);
    expect(a.lastArrivalAgoMs).toBe(0);
  });

  it('smooths over its window: a second without requests lowers the rate, it does not zero it', () => {
    const meter = new ArrivalMeter(10_000);
    meter.observe(0, [worker('w-1', 0)], 0);
    let a = meter.observe(1000, [worker('w-1', 2)], 0);
    expect(a.perSecond).toBe(2);
    a = meter.observe(2000, [worker('w-1', 2)], 0);
    expect(a.perSecond).toBeGreaterThan(1.7);
    expect(a.perSecond).toBeLessThan(2);
    expect(a.lastArrivalAgoMs).toBe(1000);
  });

  it('counts a new worker from its start, and a restarted one anew', () => {
    const meter = new ArrivalMeter(1);
    meter.observe(0, [worker('w-1', 10)], 0);
    // w-2 is new (4 since it started); w-1 restarted (its count went back to 1).
    expect(meter.observe(1000, [worker('w-1', 1), worker('w-2', 4)], 0).perSecond).toBeCloseTo(5, 5);
  });

  it('takes a backlog in the queue as an arrival where workers do not say what they received (EC2)', () => {
    const meter = new ArrivalMeter();
    expect(meter.observe(0, [worker('w-1')], 0)).toEqual({});
    expect(meter.observe(1000, [worker('w-1')], 3)).toEqual({ lastArrivalAgoMs: 0 });
    expect(meter.observe(4000, [worker('w-1')], 0)).toEqual({ lastArrivalAgoMs: 3000 });
  });
});
