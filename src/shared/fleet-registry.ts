/**
 * The local fleet's registry: one file per worker process in a directory, written by the driver when it
 * launches a worker and marked by the worker when it is ready. Files, not memory, so that a restarted
 * autoscaler finds the workers its predecessor started (the local counterpart of EC2's instance tags).
 *
 *   <dir>/<id>.json      {id, number, pid, warm?}: written at launch; warm: kept ready without taking messages,
 *                        until the fleet wakes it (rewritten without warm then)
 *   <dir>/<id>.ready     the worker takes messages: {metricsUrl?}, where its Prometheus metrics are
 *   <dir>/<id>.stopping  asked to stop: it finishes what it holds and exits
 *   <dir>/<id>.alive     written every second by a ready worker: its liveness signal (the file's mtime) and
 *                        {holding, received, busyMs}: the messages it holds (0: idle; the autoscaler may stop
 *                        it under a backlog), and those it received and the time it spent on them since start
 *                        (the autoscaler's arrival rate and time per message)
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RegistryEntry {
  readonly id: string;
  readonly number: number;
  readonly pid: number;
  readonly ready: boolean;
  readonly stopping: boolean;
  /** Launched to wait, warm, taking no messages, until the fleet wakes it. */
  readonly warm: boolean;
  /** When the worker last gave its liveness signal, epoch ms; undefined before its first. */
  readonly aliveAt: number | undefined;
  /** Where the worker serves its Prometheus metrics, once it is ready and if it has a health port. */
  readonly metricsUrl?: string;
  /** Messages the worker held at its last liveness signal; undefined before its first. */
  readonly holding?: number;
  /** Messages it received since it started, and the milliseconds it spent on them, at its last signal. */
  readonly received?: number;
  readonly busyMs?: number;
}

/** What a worker says of its work at each liveness signal. */
export interface WorkerActivity {
  readonly holding: number;
  readonly received?: number;
  readonly busyMs?: number;
}

export interface ReadyDetails {
  readonly metricsUrl?: string;
}

export class FleetRegistry {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Written synchronously right after the spawn, so that no await separates the process from its record. */
  add(entry: { id: string; number: number; pid: number; warm?: boolean }): void {
    const path = join(this.dir, `${entry.id}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(entry));
    renameSync(`${path}.tmp`, path);
  }

  /** A warm worker is woken: from now on it is one of the fleet's (running, once it says it is ready). */
  wake(entry: { id: string; number: number; pid: number }): void {
    this.add({ id: entry.id, number: entry.number, pid: entry.pid });
  }

  entries(): RegistryEntry[] {
    const names = new Set(readdirSync(this.dir));
    const entries: RegistryEntry[] = [];
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -'.json'.length);
      try {
        const { number, pid, warm } = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as RegistryEntry;
        entries.push({
          id,
          number,
          pid,
          warm: warm === true,
          ready: names.has(`${id}.ready`),
          ...(names.has(`${id}.ready`) ? readyDetails(join(this.dir, `${id}.ready`)) : {}),
          stopping: names.has(`${id}.stopping`),
          aliveAt: names.has(`${id}.alive`) ? aliveAt(join(this.dir, `${id}.alive`)) : undefined,
          ...(names.has(`${id}.alive`) ? activityOf(join(this.dir, `${id}.alive`)) : {}),
        });
      } catch {
        // Removed between the listing and the read: the worker is gone.
      }
    }
    return entries;
  }

  markReady(id: string, details: ReadyDetails = {}): void {
    writeFileSync(join(this.dir, `${id}.ready`), JSON.stringify(details));
  }

  /**
   * The worker's liveness signal, with what it holds: called by a ready worker every second, from its event
   * loop. Written whole to a temporary file and renamed, so that a reader never sees half of it.
   */
  heartbeat(id: string, activity: WorkerActivity): void {
    const path = join(this.dir, `${id}.alive`);
    writeFileSync(`${path}.tmp`, JSON.stringify(activity));
    renameSync(`${path}.tmp`, path);
  }

  markStopping(id: string): void {
    writeFileSync(join(this.dir, `${id}.stopping`), '');
  }

  remove(id: string): void {
    for (const suffix of ['.json', '.ready', '.stopping', '.alive', '.alive.tmp'])
      rmSync(join(this.dir, `${id}${suffix}`), { force: true });
  }
}

function readyDetails(path: string): ReadyDetails {
  try {
    const { metricsUrl } = JSON.parse(readFileSync(path, 'utf8') || '{}') as ReadyDetails;
    return typeof metricsUrl === 'string' ? { metricsUrl } : {};
  } catch {
    // Written by an older worker (empty), or being written: no details.
    return {};
  }
}

function activityOf(path: string): Partial<WorkerActivity> {
  try {
    const activity = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return Object.fromEntries(
      (['holding', 'received', 'busyMs'] as const).flatMap((k) =>
        typeof activity[k] === 'number' ? [[k, activity[k]]] : [],
      ),
    );
  } catch {
    // Gone, or written by a worker of an older version (empty): unknown.
    return {};
  }
}

function aliveAt(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process with this id is running. A zombie (exited, not yet reaped by a parent that is itself
 * gone) still answers signals, so on Linux its state is read as well.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; the state follows the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
