/**
 * The local fleet driver: each worker is a detached child process running the app tier's `main`, recorded in
 * a registry directory (see fleet-registry.ts) so that the autoscaler can die and restart without losing
 * track of it. A worker does not depend on the process that launched it: it watches the stack's owner process
 * instead (FLEET_OWNER_PID) and stops when that one is gone, so nothing outlives `npm start`.
 *
 * A worker that exits without being asked is noticed at the next listing, logged and dropped; the autoscaler
 * then launches another while work remains. So is one that is alive but hung: a ready worker touches its
 * liveness file every second, and one silent for longer than `livenessTimeoutMs` is killed first.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnvironment } from '../shared/config/config.js';
import { FleetRegistry, isAlive } from '../shared/fleet-registry.js';
import type { Logger } from '../shared/logger.js';
import { lowestFreeNumbers, type Fleet, type FleetWorker } from './fleet.js';

const WORKER_MAIN = fileURLToPath(new URL('../app-tier/main.ts', import.meta.url));
/** What tells a warm worker to start taking messages (SIGUSR1 is Node's debugger's). */
export const WAKE_SIGNAL = 'SIGUSR2';

export interface LocalFleetOptions {
  /** The registry directory (FLEET_DIR). */
  readonly dir: string;
  readonly logger: Logger;
  /** The process whose end stops every worker (npm start's, or the test runner's). */
  readonly ownerPid: number;
  /** Extra environment for every worker, on top of this process's configuration. */
  readonly env?: Record<string, string>;
  /** How long a stopping worker may take before it is killed, in milliseconds. */
  readonly stopGraceMs: number;
  /**
   * A running worker whose liveness signal is older than this, in milliseconds, is hung (frozen, or its event
   * loop blocked): it is killed and dropped, so that another takes its place. Undefined: not checked.
   */
  readonly livenessTimeoutMs?: number;
  /**
   * Worker processes kept warm (WARM_WORKERS): started, models loaded and the gallery read, taking no
   * messages; a launch wakes them first (in milliseconds), then starts new ones. Default 0.
   */
  readonly warmWorkers?: number;
}

export class LocalFleet implements Fleet {
  private readonly registry: FleetRegistry;

  constructor(private readonly options: LocalFleetOptions) {
    this.registry = new FleetRegistry(options.dir);
  }

  async list(): Promise<FleetWorker[]> {
    const workers: FleetWorker[] = [];
    for (const entry of this.registry.entries()) {
      if (!isAlive(entry.pid)) {
        if (!entry.stopping) {
          this.options.logger.error({ workerId: entry.id, pid: entry.pid }, 'worker exited unexpectedly');
        }
        this.registry.remove(entry.id);
        continue;
      }
      const silentMs = entry.aliveAt === undefined ? 0 : Date.now() - entry.aliveAt;
      const timeout = this.options.livenessTimeoutMs;
      if (entry.ready && !entry.stopping && timeout !== undefined && silentMs > timeout) {
        this.options.logger.error(
          { workerId: entry.id, pid: entry.pid, silentMs: Math.round(silentMs) },
          'worker gave no liveness signal in time; killing it so that another takes its place',
        );
        signal(entry.pid, 'SIGKILL');
        this.registry.remove(entry.id);
        continue;
      }
      const state = entry.stopping ? 'stopping' : entry.warm ? 'warm' : entry.ready ? 'running' : 'starting';
      workers.push({
        id: entry.id,
        number: entry.number,
        state,
        ...(entry.metricsUrl ? { metricsUrl: entry.metricsUrl } : {}),
        ...(entry.holding === undefined ? {} : { busy: entry.holding > 0 }),
        ...(entry.received === undefined ? {} : { received: entry.received, busyMs: entry.busyMs ?? 0 }),
      });
    }
    return workers.sort((a, b) => a.number - b.number);
  }

  async launch(count: number): Promise<string[]> {
    // Warm workers first: they take messages as soon as they are told to.
    const warm = this.registry
      .entries()
      .filter((e) => e.warm && e.ready && !e.stopping && isAlive(e.pid))
      .sort((a, b) => a.number - b.number)
      .slice(0, count);
    for (const entry of warm) {
      this.registry.wake(entry);
      signal(entry.pid, WAKE_SIGNAL);
      this.options.logger.info({ workerId: entry.id, pid: entry.pid }, 'warm worker woken');
    }
    return [...warm.map((e) => e.id), ...this.spawn(count - warm.length, false)];
  }

  /** Starts warm workers until the pool holds `warmWorkers` (those still loading are listed warm too). */
  async keepWarm(workers: readonly FleetWorker[]): Promise<void> {
    const warm = workers.filter((w) => w.state === 'warm').length;
    this.spawn((this.options.warmWorkers ?? 0) - warm, true);
  }

  private spawn(count: number, warm: boolean): string[] {
    if (count <= 0) return [];
    const taken = this.registry.entries().map((e) => e.number);
    return lowestFreeNumbers(taken, count).map((number) => {
      const id = `local-worker-${number}`;
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER_MAIN], {
        env: childEnvironment({
          ...this.options.env,
          WORKER_ID: id,
          ...(warm ? { WORKER_WARM: 'true' } : {}),
          // Each worker's probes and metrics on a free loopback port of its own, recorded in the registry.
          WORKER_HEALTH_PORT: this.options.env?.['WORKER_HEALTH_PORT'] ?? '0',
          FLEET_DIR: this.options.dir,
          FLEET_OWNER_PID: String(this.options.ownerPid),
        }),
        stdio: ['ignore', 'inherit', 'inherit'],
        // Its own process group: Ctrl-C in a terminal reaches only `npm start`, which stops workers in order,
        // and the worker outlives an autoscaler that crashes.
        detached: true,
      });
      if (child.pid === undefined) throw new Error(`could not start ${id}`);
      this.registry.add({ id, number, pid: child.pid, ...(warm ? { warm } : {}) });
      child.unref();
      this.options.logger.info(
        { workerId: id, pid: child.pid, warm },
        warm ? 'warm worker starting' : 'worker starting',
      );
      return id;
    });
  }

  async stop(ids: readonly string[]): Promise<void> {
    const entries = new Map(this.registry.entries().map((e) => [e.id, e]));
    for (const id of ids) {
      const entry = entries.get(id);
      if (!entry) continue;
      this.registry.markStopping(id);
      signal(entry.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (!isAlive(entry.pid)) return;
        this.options.logger.warn({ workerId: id }, 'worker did not stop within its grace period; killing it');
        signal(entry.pid, 'SIGKILL');
      }, this.options.stopGraceMs);
      timer.unref();
    }
  }

  /** The operating-system process id of a worker, for inspection. */
  pid(id: string): number | undefined {
    return this.registry.entries().find((e) => e.id === id)?.pid;
  }

  /** Sends a signal straight to one worker: tests use SIGKILL to crash it. */
  kill(id: string, sig: NodeJS.Signals): void {
    const pid = this.pid(id);
    if (pid !== undefined) signal(pid, sig);
  }

  /** Resolves once `count` workers are running (or rejects after `timeoutMs`). */
  async whenRunning(count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.list()).filter((w) => w.state === 'running').length < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} workers were running after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops every worker and waits until each process is gone, killing those past the grace period. */
  async close(): Promise<void> {
    const entries = this.registry.entries();
    await this.stop(entries.filter((e) => isAlive(e.pid)).map((e) => e.id));
    const deadline = Date.now() + this.options.stopGraceMs + 1000;
    while (entries.some((e) => isAlive(e.pid))) {
      if (Date.now() > deadline) {
        for (const e of entries) signal(e.pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 200));
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const e of entries) this.registry.remove(e.id);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}
