/**
 * `npm start`'s autoscaler: src/autoscaler/main.ts in a child process, restarted if it dies (as systemd does
 * on AWS). Its workers do not depend on it, so a restart adopts them. It reports where its status endpoint
 * listens; the web tier reads that for its own GET /status.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.js';
import type { AutoscalerReadyMessage } from '../shared/process.js';
import { forkPart, stopChild } from './child-part.js';

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
    const { child, ready } = forkPart<AutoscalerReadyMessage>(
      AUTOSCALER_MAIN,
      this.o.env,
      'facefleet:autoscaler-ready',
      'autoscaler',
    );
    this.child = child;
    this.url = undefined;
    child.once('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.restarts++;
      this.o.logger.error({ code, signal, restarts: this.restarts }, 'the autoscaler died; restarting it');
      setTimeout(() => {
        if (!this.stopping) this.start().catch((err: unknown) => this.o.logger.error({ err }, 'restart failed'));
      }, RESTART_DELAY_MS).unref();
    });
    this.url = (await ready).statusUrl;
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
    if (this.child) await stopChild(this.child, this.o.stopGraceMs);
  }
}
