/**
 * `npm start`'s autoscaler: src/autoscaler/main.ts in a child process, started again if it dies (as systemd
 * does on AWS). Its workers do not depend on it, so a restart adopts them. It reports where its status endpoint
 * listens; the web tier reads that for its own GET /status.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.js';
import type { AutoscalerReadyMessage } from '../shared/process.js';
import { SupervisedPart } from './child-part.js';

const AUTOSCALER_MAIN = fileURLToPath(new URL('../autoscaler/main.ts', import.meta.url));

export class AutoscalerProcess {
  private readonly part: SupervisedPart<AutoscalerReadyMessage>;
  private url: string | undefined;

  constructor(o: { env: Record<string, string>; logger: Logger; stopGraceMs: number }) {
    this.part = new SupervisedPart<AutoscalerReadyMessage>({
      main: AUTOSCALER_MAIN,
      name: 'autoscaler',
      readyType: 'facefleet:autoscaler-ready',
      env: () => {
        this.url = undefined;
        return o.env;
      },
      logger: o.logger,
      stopGraceMs: o.stopGraceMs,
      onReady: (m) => (this.url = m.statusUrl),
      onGiveUp: (err) =>
        o.logger.error({ err }, 'the autoscaler keeps dying and is not started again: the fleet no longer scales'),
    });
  }

  /** Starts it and resolves once it runs. */
  start(): Promise<void> {
    return this.part.start();
  }

  /** Where its GET /status answers; undefined while it (re)starts. */
  get statusUrl(): string | undefined {
    return this.url;
  }

  get pid(): number | undefined {
    return this.part.pid;
  }

  /** Sends a signal to the current autoscaler; tests use SIGKILL to crash it. */
  kill(signal: NodeJS.Signals): void {
    this.part.kill(signal);
  }

  stop(): Promise<void> {
    return this.part.stop();
  }
}
