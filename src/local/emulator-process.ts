/**
 * The emulator as `npm start` runs it: src/local/emulator-main.ts in a child process. Its state is on disk, so
 * if it dies it is started again on the same port (the clients keep their endpoint) with everything it held;
 * requests fail meanwhile and are retried by the SDK or answered with an error. If it cannot be started again,
 * or keeps dying (a crash loop), `onGiveUp` is told and the stack should stop.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Emulator } from '../shared/emulator.js';
import type { Logger } from '../shared/logger.js';
import type { EmulatorReadyMessage } from '../shared/process.js';
import { forkPart, stopChild } from './child-part.js';

const EMULATOR_MAIN = fileURLToPath(new URL('./emulator-main.ts', import.meta.url));
/** Pause before starting a dead emulator again, so that a crash loop does not spin. */
const RESTART_DELAY_MS = 200;
/** More deaths than this within a minute is a crash loop: the stack gives up instead of restarting forever. */
const MAX_RESTARTS_PER_MINUTE = 5;

export interface EmulatorProcessOptions {
  readonly port: number;
  /** Settings for the emulator process on top of this one's environment (DATA_DIR). */
  readonly env: Record<string, string>;
  readonly stopGraceMs: number;
  readonly logger: Logger;
  readonly onGiveUp: (err: Error) => void;
}

export class EmulatorProcess implements Emulator {
  private child!: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private readonly deaths: number[] = [];

  private constructor(
    private readonly o: EmulatorProcessOptions,
    readonly endpoint: string,
    readonly port: number,
  ) {}

  static async start(o: EmulatorProcessOptions): Promise<EmulatorProcess> {
    const { child, ready } = fork(o.env, o.port);
    const { endpoint, port } = await ready;
    const emulator = new EmulatorProcess(o, endpoint, port);
    emulator.watch(child);
    return emulator;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends a signal to the emulator process; tests use SIGKILL to crash it. */
  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await stopChild(this.child, this.o.stopGraceMs);
  }

  private watch(child: ChildProcess): void {
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      const now = Date.now();
      this.deaths.push(now);
      while (this.deaths[0]! < now - 60_000) this.deaths.shift();
      if (this.deaths.length > MAX_RESTARTS_PER_MINUTE) {
        this.o.onGiveUp(
          new Error(`the emulator died ${this.deaths.length} times within a minute (last: ${signal ?? code})`),
        );
        return;
      }
      this.restarts++;
      this.o.logger.error(
        { code, signal, restarts: this.restarts },
        'the S3+SQS emulator died; starting it again with the state it kept',
      );
      setTimeout(() => void this.restart(), RESTART_DELAY_MS).unref();
    });
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    const { child, ready } = fork(this.o.env, this.port);
    try {
      await ready;
    } catch (err) {
      this.o.onGiveUp(err as Error);
      return;
    }
    if (this.stopping) return void stopChild(child, this.o.stopGraceMs);
    this.watch(child);
    this.o.logger.info({ endpoint: this.endpoint }, 'the S3+SQS emulator runs again');
  }
}

function fork(env: Record<string, string>, port: number) {
  return forkPart<EmulatorReadyMessage>(
    EMULATOR_MAIN,
    { ...env, EMULATOR_PORT: String(port) },
    'facefleet:emulator-ready',
    'S3+SQS emulator',
  );
}
