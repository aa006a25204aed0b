/**
 * What Linux says about a process: CPU time used and resident memory, from /proc. The benchmark reads them
 * around a run to charge each process kind (worker, web tier, emulator) its CPU per request.
 */
import { readFileSync } from 'node:fs';

/** /proc reports CPU time in USER_HZ ticks, which are 1/100 s on every Linux architecture Node runs on. */
const MS_PER_TICK = 10;

/** User + system CPU milliseconds used so far by `pid`; undefined if it is gone or /proc is not there. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": state is field 3, utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return undefined;
  }
}

/** Resident memory of `pid` in MiB; undefined if it is gone or /proc is not there. */
export function processRssMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
