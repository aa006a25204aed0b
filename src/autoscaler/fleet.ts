/**
 * The fleet of app-tier workers behind one interface, with two drivers: local child processes (this machine,
 * tests, CI) and EC2 instances (AWS). The autoscaler decides how many; a driver only starts and stops them.
 */
export type WorkerState = 'starting' | 'running' | 'stopping';

export interface FleetWorker {
  readonly id: string;
  readonly state: WorkerState;
}

export interface Fleet {
  /** Workers that exist now, in any state but gone. */
  list(): Promise<FleetWorker[]>;
  /** Starts `count` more workers; resolves with their ids once they are requested (not yet ready). */
  launch(count: number): Promise<string[]>;
  /** Asks the given workers to finish what they hold and stop. */
  stop(ids: readonly string[]): Promise<void>;
}
