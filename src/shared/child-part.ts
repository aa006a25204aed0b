/**
 * How `npm start` runs a part of the system in a child process: fork its `main` with the stack's environment,
 * in its own process group (Ctrl-C reaches npm start, which stops the parts in order), wait for the message it
 * sends once it runs, and stop it with SIGTERM, then SIGKILL after a grace period. `SupervisedPart` also starts
 * it again when it dies, as systemd does on AWS.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { childEnvironment } from './config/config.js';
import type { Reader } from './config/settings.js';
import type { Logger } from './logger.js';

/** Pause before starting a dead part again, so that a crash loop does not spin. */
const RESTART_DELAY_MS = 300;
/** More deaths than this within a minute is a crash loop: the part is given up instead of restarted forever. */
const MAX_DEATHS_PER_MINUTE = 5;

export interface ForkedPart<M> {
  readonly child: ChildProcess;
  /** The part's ready message; rejects if it exits first. */
  readonly ready: Promise<M>;
}

export function forkPart<M extends { type: string }>(
  main: string,
  env: Record<string, string>,
  readyType: M['type'],
  name: string,
  { keepSecrets = false }: { keepSecrets?: boolean | Reader } = {},
): ForkedPart<M> {
  const child = fork(main, [], {
    execArgv: ['--import', 'tsx'],
    env: childEnvironment(env, { keepSecrets }),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  const ready = new Promise<M>((resolve, reject) => {
    child.on('message', (m: M) => {
      if (m.type === readyType) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`the ${name} exited with code ${code} before it ran`)));
  });
  return { child, ready };
}

export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface SupervisedPartOptions<M extends { type: string }> {
  readonly main: string;
  /** For messages: "autoscaler", "S3+SQS emulator". */
  readonly name: string;
  readonly readyType: M['type'];
  /** The environment of each start, on top of this process's (read again at every restart). */
  readonly env: () => Record<string, string>;
  readonly logger: Logger;
  readonly stopGraceMs: number;
  /** Told each time it runs: at the first start and after every restart. */
  readonly onReady: (message: M) => void;
  /** Told when it keeps dying (more than 5 times a minute); it is not started again. */
  readonly onGiveUp: (err: Error) => void;
  /** Told every message it sends after its ready message (its live figures, for a web process). */
  readonly onMessage?: (message: unknown) => void;
  /** Told when it exits, before it is started again (its figures are stale from then on). */
  readonly onExit?: () => void;
  /** It is given the secrets (API_KEY): a web process checks the key. */
  /** The secrets the child keeps (childEnvironment): all, none, or those its reader reads. */
  readonly keepSecrets?: boolean | Reader;
}

/** A part that is started again when it dies; a crash loop is given up. */
export class SupervisedPart<M extends { type: string }> {
  private child: ChildProcess | undefined;
  private ran = false;
  private stopping = false;
  private restarts = 0;
  private readonly deaths: number[] = [];

  constructor(private readonly options: SupervisedPartOptions<M>) {}

  /** Starts it; resolves once it runs, or rejects if it exits first (a first start is not retried). */
  async start(): Promise<void> {
    const { child, ready } = forkPart<M>(
      this.options.main,
      this.options.env(),
      this.options.readyType,
      this.options.name,
      {
        keepSecrets: this.options.keepSecrets,
      },
    );
    this.child = child;
    const { onMessage } = this.options;
    if (onMessage) child.on('message', (m: unknown) => onMessage(m));
    child.once('exit', (code, signal) => {
      this.options.onExit?.();
      this.died(child, code, signal);
    });
    const message = await ready;
    this.ran = true;
    this.options.onReady(message);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Sends a signal to the current process; tests use SIGKILL to crash it and SIGSTOP to freeze it. */
  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Sends a message to the current process over its IPC channel, if it runs. */
  send(message: unknown): void {
    const child = this.child;
    if (child?.connected) child.send(message as object, (err) => err && undefined);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child) await stopChild(this.child, this.options.stopGraceMs);
  }

  private died(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || !this.ran || this.child !== child) return;
    const now = Date.now();
    this.deaths.push(now);
    while (this.deaths[0]! < now - 60_000) this.deaths.shift();
    if (this.deaths.length > MAX_DEATHS_PER_MINUTE) {
      this.options.onGiveUp(new Error(`the ${this.options.name} died ${this.deaths.length} times within a minute`));
      return;
    }
    this.restarts++;
    this.options.logger.error(
      { code, signal, restarts: this.restarts },
      `the ${this.options.name} died; starting it again`,
    );
    setTimeout(() => {
      if (this.stopping) return;
      this.start().catch((err: unknown) =>
        this.options.logger.error({ err }, `the ${this.options.name} did not start again`),
      );
    }, RESTART_DELAY_MS).unref();
  }
}

export interface ListeningPartOptions<M extends { type: string }> {
  readonly main: string;
  readonly name: string;
  readonly readyType: M['type'];
  /** Where it answers, from its ready message. */
  readonly addressOf: (message: M) => string;
  readonly env: Record<string, string>;
  readonly logger: Logger;
  readonly stopGraceMs: number;
  /** What is lost when it keeps dying and is given up, for the log line ("the fleet no longer scales"). */
  readonly lost: string;
  readonly keepSecrets?: boolean | Reader;
}

/** A supervised part that serves HTTP: where it answers is known while it runs, and unknown while it restarts. */
export class ListeningPart<M extends { type: string }> {
  private readonly part: SupervisedPart<M>;
  private address: string | undefined;

  constructor(options: ListeningPartOptions<M>) {
    this.part = new SupervisedPart<M>({
      main: options.main,
      name: options.name,
      readyType: options.readyType,
      env: () => {
        this.address = undefined;
        return options.env;
      },
      logger: options.logger,
      stopGraceMs: options.stopGraceMs,
      ...(options.keepSecrets === undefined ? {} : { keepSecrets: options.keepSecrets }),
      onReady: (m) => (this.address = options.addressOf(m)),
      onGiveUp: (err) =>
        options.logger.error({ err }, `the ${options.name} keeps dying and is not started again: ${options.lost}`),
    });
  }

  /** Starts it and resolves once it runs. */
  start(): Promise<void> {
    return this.part.start();
  }

  /** Where it answers; undefined while it (re)starts. */
  get url(): string | undefined {
    return this.address;
  }

  get pid(): number | undefined {
    return this.part.pid;
  }

  /** Sends a signal to the current process; tests use SIGKILL to crash it. */
  kill(signal: NodeJS.Signals): void {
    this.part.kill(signal);
  }

  stop(): Promise<void> {
    return this.part.stop();
  }
}
