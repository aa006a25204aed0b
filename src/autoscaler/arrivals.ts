/**
 * What the traffic is, from one observation a round: how many requests arrive a second and how long a worker
 * spends on one, each smoothed over a window (an exponentially weighted mean, as AWS's target tracking and
 * KEDA smooth theirs), and when a request last arrived. The fleet's workers say what they received and how long
 * they spent since they started (the local fleet does; EC2 and Auto Scaling fleets do not); where they cannot,
 * a backlog seen in the queue is the only sign of an arrival. Pure but for the clock it is given.
 */
import type { FleetWorker } from './fleet.js';

/** The smoothing window: long enough to bridge a trickle's gaps, short enough to follow a change within it. */
export const ARRIVALS_WINDOW_MS = 10_000;

export interface Arrivals {
  /** Requests arriving a second, smoothed; undefined while no worker reports what it received. */
  readonly perSecond?: number;
  /** A worker's seconds per request, smoothed; undefined before the first report of work. */
  readonly secondsPerMessage?: number;
  /** Milliseconds since a request last arrived (or a backlog was seen); undefined: none since start. */
  readonly lastArrivalAgoMs?: number;
}

export class ArrivalMeter {
  private last: { at: number; counts: Map<string, { received: number; busyMs: number }> } | undefined;
  private rate: number | undefined;
  private perMessageSeconds: number | undefined;
  private lastArrivalAt: number | undefined;

  constructor(private readonly windowMs = ARRIVALS_WINDOW_MS) {}

  /** Takes one round's observation: the fleet as listed, and the backlog in the queue. */
  observe(now: number, workers: readonly FleetWorker[], backlog: number): Arrivals {
    if (backlog > 0) this.lastArrivalAt = now;
    const reporting = workers.filter((w) => w.received !== undefined);
    const counts = new Map(reporting.map((w) => [w.id, { received: w.received!, busyMs: w.busyMs ?? 0 }]));
    const previous = this.last;
    this.last = { at: now, counts };
    if (previous && now > previous.at && reporting.length > 0) {
      let received = 0;
      let busyMs = 0;
      for (const [id, c] of counts) {
        // A worker seen for the first time counts from its start; one that restarted (fewer than before) too.
        const before = previous.counts.get(id);
        const since = before && before.received <= c.received ? before : { received: 0, busyMs: 0 };
        received += c.received - since.received;
        busyMs += Math.max(0, c.busyMs - since.busyMs);
      }
      const elapsedMs = now - previous.at;
      const weight = 1 - Math.exp(-elapsedMs / this.windowMs);
      const instant = (received * 1000) / elapsedMs;
      this.rate = this.rate === undefined ? instant : this.rate + (instant - this.rate) * weight;
      if (received > 0) {
        this.lastArrivalAt = now;
        const perMessage = busyMs / 1000 / received;
        this.perMessageSeconds =
          this.perMessageSeconds === undefined
            ? perMessage
            : this.perMessageSeconds + (perMessage - this.perMessageSeconds) * weight;
      }
    }
    return {
      ...(this.rate === undefined ? {} : { perSecond: this.rate }),
      ...(this.perMessageSeconds === undefined ? {} : { secondsPerMessage: this.perMessageSeconds }),
      ...(this.lastArrivalAt === undefined ? {} : { lastArrivalAgoMs: now - this.lastArrivalAt }),
    };
  }
}
