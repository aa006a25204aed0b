/**
 * `npm start` (src/local/main.ts) in a child process, as the benchmark and the durability tests run it: with
 * the environment given, waiting for the message it sends once the whole stack takes requests.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StackReadyMessage } from '../../src/shared/process.js';

const MAIN = fileURLToPath(new URL('../../src/local/main.ts', import.meta.url));

type Output = 'ignore' | 'pipe' | 'inherit';

/** Starts it; 'pipe' lets the caller read its log lines (stdout) and its last words (stderr). */
export function forkStack(
  env: NodeJS.ProcessEnv,
  o: { args?: string[]; stdout?: Output; stderr?: Output } = {},
): { child: ChildProcess; ready: Promise<StackReadyMessage> } {
  const child = fork(MAIN, o.args ?? [], {
    execArgv: ['--import', 'tsx'],
    env,
    stdio: ['ignore', o.stdout ?? 'ignore', o.stderr ?? 'inherit', 'ipc'],
  });
  const ready = new Promise<StackReadyMessage>((resolve, reject) => {
    child.on('message', (m: StackReadyMessage) => {
      if (m.type === 'facefleet:stack-ready') resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`the stack exited with code ${code} before it was ready`)));
  });
  return { child, ready };
}

/** Stops it as Ctrl-C does (SIGINT reaches npm start, which stops every part) and waits for it to exit. */
export async function stopStack(child: ChildProcess, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill(signal);
  return exited;
}
