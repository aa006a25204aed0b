/**
 * The emulator as `npm start` runs it: src/local/emulator-main.ts in a child process. Its state lives in its
 * memory, so it is not restarted behind the stack's back: if it dies, `onExit` is told and the stack stops.
 */
import { fileURLToPath } from 'node:url';
import type { Emulator } from '../shared/emulator.js';
import type { EmulatorReadyMessage } from '../shared/process.js';
import { forkPart, stopChild } from './child-part.js';

const EMULATOR_MAIN = fileURLToPath(new URL('./emulator-main.ts', import.meta.url));

export interface EmulatorProcess extends Emulator {
  readonly pid: number;
}

export async function startEmulatorProcess(o: {
  port: number;
  stopGraceMs: number;
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}): Promise<EmulatorProcess> {
  const { child, ready } = forkPart<EmulatorReadyMessage>(
    EMULATOR_MAIN,
    { EMULATOR_PORT: String(o.port) },
    'facefleet:emulator-ready',
    'S3+SQS emulator',
  );
  let stopping = false;
  const { endpoint, port } = await ready;
  child.once('exit', (code, signal) => {
    if (!stopping) o.onExit(code, signal);
  });
  return {
    endpoint,
    port,
    pid: child.pid!,
    async stop() {
      stopping = true;
      await stopChild(child, o.stopGraceMs);
    },
  };
}
