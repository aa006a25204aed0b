/**
 * The fleet of app-tier workers behind one interface, with two drivers: local child processes (this machine,
 * tests, CI) and EC2 instances (AWS). The autoscaler decides how many; a driver only starts and stops them,
 * and finds them again from outside state (files, instance tags), so a restarted autoscaler adopts its fleet.
 */
/** `warm`: ready (models loaded, the gallery read) but taking no messages until a launch wakes it (local only). */
export type WorkerState = 'starting' | 'running' | 'stopping' | 'warm';

export interface FleetWorker {
  readonly id: string;
  /** The n of its name (`app-tier-instance-<n>`, `local-worker-<n>`): the lowest free one at launch. */
  readonly number: number;
  readonly state: WorkerState;
  /** Where its Prometheus metrics are, where the driver knows (the local one does). */
  readonly metricsUrl?: string;
  /**
   * Whether it holds messages now: false means idle, safe to stop under a backlog; undefined means the driver
   * cannot tell (then it is never stopped while anything is queued). Local workers say it in the registry;
   * in an Auto Scaling group, a worker protects its instance from scale-in while it holds messages.
   */
  readonly busy?: boolean;
  /**
   * Messages it received since it started, and the milliseconds it spent on them, where the driver knows (the
   * local one does): the autoscaler's arrival rate and time per message.
   */
  readonly received?: number;
  readonly busyMs?: number;
}

export interface Fleet {
  /** Workers that exist now, in any state but gone. */
  list(): Promise<FleetWorker[]>;
  /** Starts `count` more workers; resolves with their ids once they are requested (not yet ready). */
  launch(count: number): Promise<string[]>;
  /** Asks the given workers to finish what they hold and stop; resolves once asked, not once gone. */
  stop(ids: readonly string[]): Promise<void>;
  /**
   * Starts what the warm pool lacks (drivers that keep one), given the workers the round listed; called in
   * rounds that launch and stop nothing.
   */
  keepWarm?(workers: readonly FleetWorker[]): Promise<void>;
}

/** The `count` lowest positive numbers not in `taken`. */
export function lowestFreeNumbers(taken: Iterable<number>, count: number): number[] {
  const used = new Set(taken);
  const free: number[] = [];
  for (let n = 1; free.length < count; n++) if (!used.has(n)) free.push(n);
  return free;
}
