/**
 * `npm start`'s hold on its data directory (shared/config/data-dir.ts): one stack at a time, since two emulators
 * writing one SQLite file and one set of object files would corrupt both; and `--fresh`, which empties it.
 *
 * The hold is `stack.pid`, created exclusively. A file left by a stack that was killed (its process is gone) is
 * taken over, and the caller is told, so that it can say what it recovers.
 */
import { mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type { DataDirLayout } from '../shared/config/data-dir.js';
import { countObjects } from './emulator-files.js';

/** Where a ready stack answers, for the tools (npm run enroll, students, workload) to find it. */
export interface StackAddresses {
  readonly webUrl: string;
  readonly emulatorEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly monitorUrl?: string;
  readonly resourcePrefix: string;
}

export interface LockRecord {
  readonly pid: number;
  readonly startedAt: string;
  /** Once the stack is ready. */
  readonly addresses?: StackAddresses;
}

export interface DataDirHold {
  /** The stack that held the directory before and did not stop cleanly (killed, or its machine stopped). */
  readonly crashed: LockRecord | undefined;
  /** Records, in the hold, where the ready stack answers. */
  announce(addresses: StackAddresses): void;
  release(): void;
}

export function holdDataDir(layout: DataDirLayout, pid = process.pid): DataDirHold {
  mkdirSync(layout.root, { recursive: true });
  const record: LockRecord = { pid, startedAt: new Date().toISOString() };
  let crashed: LockRecord | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(layout.lock, JSON.stringify(record), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const holder = readLock(layout.lock);
    if (holder && holder.pid !== pid && isAlive(holder.pid)) {
      throw new Error(
        `${layout.root} is in use by another facefleet stack (pid ${holder.pid}, started ${holder.startedAt}): ` +
          'stop it first, or give this one its own DATA_DIR, EMULATOR_PORT, PORT, AUTOSCALER_PORT and MONITOR_PORT. If no ' +
          `facefleet runs as pid ${holder.pid}, delete ${layout.lock}.`,
      );
    }
    crashed = holder;
    unlinkSync(layout.lock);
  }
  return {
    crashed,
    announce(addresses) {
      if (readLock(layout.lock)?.pid === pid) {
        writeFileSync(layout.lock, JSON.stringify({ ...record, addresses } satisfies LockRecord));
      }
    },
    release() {
      if (readLock(layout.lock)?.pid === pid) unlinkSync(layout.lock);
    },
  };
}

/** The stack that holds the directory, when its process is alive; with its addresses once it is ready. */
export function holderOf(layout: DataDirLayout): LockRecord | undefined {
  const holder = readLock(layout.lock);
  return holder && isAlive(holder.pid) ? holder : undefined;
}

function readLock(path: string): LockRecord | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockRecord;
  } catch {
    // Absent, or torn by a crash while it was written: nobody holds the directory through it.
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What the data directory holds, in words: objects per bucket and the size of the queues' database. */
export function describeDataDir(layout: DataDirLayout): string {
  const buckets = [...countObjects(layout.s3)].filter(([, n]) => n > 0);
  const objects = buckets.reduce((sum, [, n]) => sum + n, 0);
  const parts = [
    objects === 0
      ? 'no objects'
      : `${objects} objects (${buckets.map(([bucket, n]) => `${n} in ${bucket}`).join(', ')})`,
    `every queue and its messages (${formatBytes(sizeOf(`${layout.sqs}/fauxqs.db`))} of SQLite)`,
    `the monitor's reports (${formatBytes(sizeOf(layout.monitor))} of SQLite)`,
    'the student records (dynalite)',
    'the local fleet registry',
  ];
  return parts.join(', ');
}

/** Empties the data directory for `--fresh`; returns what it deleted, in words. Hold the directory first. */
export function emptyDataDir(layout: DataDirLayout): string {
  const what = describeDataDir(layout);
  for (const path of [
    layout.sqs,
    layout.s3,
    layout.fleet,
    layout.damaged,
    layout.dynamodb,
    ...sqliteFiles(layout.monitor),
  ])
    rmSync(path, { recursive: true, force: true });
  return what;
}

/** A SQLite database's files: the database, its write-ahead log and its shared-memory index. */
function sqliteFiles(path: string): string[] {
  return ['', '-wal', '-shm'].map((suffix) => path + suffix);
}

function sizeOf(path: string): number {
  let total = 0;
  for (const file of sqliteFiles(path)) {
    try {
      total += statSync(file).size;
    } catch {
      // absent
    }
  }
  return total;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
