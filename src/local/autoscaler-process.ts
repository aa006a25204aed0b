/**
 * `npm start`'s autoscaler: src/autoscaler/main.ts in a child process, restarted if it dies (as systemd does
 * on AWS). Its workers do not depend on it, so a restart adopts them. It reports where its status endpoint
 * listens; the web tier reads that for its own GET /status.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnvironment } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import type { AutoscalerReadyMessage } from '../shared/process.js';

const AUTOSCALER_MAIN = fileURLToPath(new URL('../autoscaler/main.ts', import.meta.url));
/** Pause before restarting an autoscaler that died, so a crash loop does not spin. */
const RESTART_DELAY_MS = 500;

export class AutoscalerProcess {
  private child: ChildProcess | undefined;
  private url: string | undefined;
  private stopping = false;
  private restarts = 0;

  constructor(private readonly o: { env: Record<string, string>; logger: Logger; stopGraceMs: number }) {}

  /** Starts it and resolves once it runs. */
  async start(): Promise<void> {
    const child = fork(AUTOSCALER_MAIN, [], {
      execArgv: ['--import', 'tsx'],
      env: childEnvironment({ ...this.o.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Its own process group, like the workers: Ctrl-C reaches npm start, which stops the parts in order.
      detached: true,
    });
    this.child = child;
    this.url = undefined;
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: AutoscalerReadyMessage) => {
        if (m.type !== 'facefleet:autoscaler-ready') return;
        this.url = m.statusUrl;
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`the autoscaler exited with code ${code} before it ran`)));
    });
    child.once('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.restarts++;
      this.o.logger.error({ code, signal, restarts: this.restarts }, 'the autoscaler died; restarting it');
      setTimeout(() => {
        if (!this.stopping) this.start().catch((err: unknown) => this.o.logger.error({ err }, 'restart failed'));
      }, RESTART_DELAY_MS).unref();
    });
    await ready;
  }

  /** Where its GET /status answers; undefined while it (re)starts. */
  get statusUrl(): string | undefined {
    return this.url;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Sends a signal to the current autoscaler; tests use SIGKILL to crash it. */
  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.o.stopGraceMs);
    await exited;
    clearTimeout(timer);
  }
}
