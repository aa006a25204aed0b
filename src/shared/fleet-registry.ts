/**
 * The local fleet's registry: one file per worker process in a directory, written by the driver when it
 * launches a worker and marked by the worker when it is ready. Files, not memory, so that a restarted
 * autoscaler finds the workers its predecessor started (the local counterpart of EC2's instance tags).
 *
 *   <dir>/<id>.json      {id, number, pid}: written at launch
 *   <dir>/<id>.ready     the worker takes messages
 *   <dir>/<id>.stopping  asked to stop: it finishes what it holds and exits
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RegistryEntry {
  readonly id: string;
  readonly number: number;
  readonly pid: number;
  readonly ready: boolean;
  readonly stopping: boolean;
}

export class FleetRegistry {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Written synchronously right after the spawn, so that no await separates the process from its record. */
  add(entry: { id: string; number: number; pid: number }): void {
    const path = join(this.dir, `${entry.id}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(entry));
    renameSync(`${path}.tmp`, path);
  }

  entries(): RegistryEntry[] {
    const names = new Set(readdirSync(this.dir));
    const entries: RegistryEntry[] = [];
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -'.json'.length);
      try {
        const { number, pid } = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as RegistryEntry;
        entries.push({ id, number, pid, ready: names.has(`${id}.ready`), stopping: names.has(`${id}.stopping`) });
      } catch {
        // Removed between the listing and the read: the worker is gone.
      }
    }
    return entries;
  }

  markReady(id: string): void {
    writeFileSync(join(this.dir, `${id}.ready`), '');
  }

  markStopping(id: string): void {
    writeFileSync(join(this.dir, `${id}.stopping`), '');
  }

  remove(id: string): void {
    for (const suffix of ['.json', '.ready', '.stopping']) rmSync(join(this.dir, `${id}${suffix}`), { force: true });
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
