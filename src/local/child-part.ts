/**
 * How `npm start` runs a part of the system in a child process: fork its `main` with the stack's environment,
 * in its own process group (Ctrl-C reaches npm start, which stops the parts in order), wait for the message it
 * sends once it runs, and stop it with SIGTERM, then SIGKILL after a grace period.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { childEnvironment } from '../shared/config.js';

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
): ForkedPart<M> {
  const child = fork(main, [], {
    execArgv: ['--import', 'tsx'],
    env: childEnvironment(env),
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
