/**
 * The local fleet driver: each worker is a child process running the app tier's `main`, with the parent's
 * configuration plus whatever the caller overrides (the emulator's endpoint, say). A worker is `starting`
 * until it reports ready over IPC. One that exits without being asked is logged and, while `replaceCrashed`
 * is on, replaced, so a crash never shrinks the fleet.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnvironment } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { READY_MESSAGE } from '../shared/process.js';
import type { Fleet, FleetWorker, WorkerState } from './fleet.js';

const WORKER_MAIN = fileURLToPath(new URL('../app-tier/main.ts', import.meta.url));

interface LocalWorker {
  readonly id: string;
  readonly child: ChildProcess;
  state: WorkerState;
  readonly exited: Promise<number | null>;
}

export interface LocalFleetOptions {
  readonly logger: Logger;
  /** Extra environment for every worker, on top of this process's configuration. */
  readonly env?: Record<string, string>;
  /** How long a stopping worker may take before it is killed, in milliseconds. */
  readonly stopGraceMs: number;
  readonly replaceCrashed?: boolean;
}

export class LocalFleet implements Fleet {
  private readonly workers = new Map<string, LocalWorker>();
  private nextNumber = 1;
  private closing = false;

  constructor(private readonly o: LocalFleetOptions) {}

  async list(): Promise<FleetWorker[]> {
    return [...this.workers.values()].map(({ id, state }) => ({ id, state }));
  }

  async launch(count: number): Promise<string[]> {
    return Array.from({ length: count }, () => this.spawn().id);
  }

  async stop(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.stopOne(id)));
  }

  /** Resolves once every worker is ready (or rejects when one exits first). */
  async whenReady(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => this.ready(w)));
  }

  /** The operating-system process id of a worker, for inspection. */
  pid(id: string): number | undefined {
    return this.workers.get(id)?.child.pid;
  }

  /** Sends a signal straight to one worker: tests use SIGKILL to crash it. */
  kill(id: string, signal: NodeJS.Signals): void {
    this.workers.get(id)?.child.kill(signal);
  }

  /** Stops every worker and stops replacing crashed ones. */
  async close(): Promise<void> {
    this.closing = true;
    await this.stop([...this.workers.keys()]);
  }

  private spawn(): LocalWorker {
    const id = `local-worker-${this.nextNumber++}`;
    const child = fork(WORKER_MAIN, [], {
      execArgv: ['--import', 'tsx'],
      // The parent has already shown the SDK's Node-version notice; one copy per worker only buries the logs.
      env: childEnvironment({ ...this.o.env, WORKER_ID: id, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Its own process group: Ctrl-C in a terminal reaches only us, and we stop the workers in order (web tier
      // drained first). A worker whose parent dies notices the closed IPC channel and stops itself.
      detached: true,
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const worker: LocalWorker = { id, child, state: 'starting', exited };
    child.on('message', (message) => {
      if (message === READY_MESSAGE && worker.state === 'starting') worker.state = 'running';
    });
    child.once('exit', (code, signal) => {
      this.workers.delete(id);
      if (worker.state === 'stopping') return;
      this.o.logger.error({ workerId: id, code, signal }, 'worker exited unexpectedly');
      if (this.o.replaceCrashed && !this.closing) {
        const replacement = this.spawn();
        this.o.logger.info({ workerId: replacement.id, replaces: id }, 'started a replacement worker');
      }
    });
    this.workers.set(id, worker);
    this.o.logger.info({ workerId: id, pid: child.pid }, 'worker starting');
    return worker;
  }

  private ready(worker: LocalWorker): Promise<void> {
    if (worker.state === 'running') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (message !== READY_MESSAGE) return;
        worker.child.off('message', onMessage);
        resolve();
      };
      worker.child.on('message', onMessage);
      void worker.exited.then((code) =>
        reject(new Error(`worker ${worker.id} exited with code ${code} before it was ready`)),
      );
    });
  }

  private async stopOne(id: string): Promise<void> {
    const worker = this.workers.get(id);
    if (!worker) return;
    worker.state = 'stopping';
    worker.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.o.logger.warn({ workerId: id }, 'worker did not stop within its grace period; killing it');
      worker.child.kill('SIGKILL');
    }, this.o.stopGraceMs);
    await worker.exited;
    clearTimeout(timer);
  }
}
