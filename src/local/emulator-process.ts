/**
 * The emulator as `npm start` runs it: src/local/emulator-main.ts in a child process. Its state is on disk, so
 * if it dies it is started again on the same port (the clients keep their endpoint) with everything it held;
 * requests fail meanwhile and are retried by the SDK or answered with an error. If it keeps dying (a crash
 * loop), `onGiveUp` is told and the stack should stop.
 */
import { fileURLToPath } from 'node:url';
import type { Emulator } from './emulator.js';
import type { Logger } from '../shared/logger.js';
import type { EmulatorReadyMessage } from '../shared/process.js';
import { SupervisedPart } from '../shared/child-part.js';

const EMULATOR_MAIN = fileURLToPath(new URL('./emulator-main.ts', import.meta.url));

export interface EmulatorProcessOptions {
  readonly port: number;
  /** The DynamoDB server's port (0 picks a free one). */
  readonly dynamodbPort: number;
  /** Settings for the emulator process on top of this one's environment (DATA_DIR). */
  readonly env: Record<string, string>;
  readonly stopGraceMs: number;
  readonly logger: Logger;
  readonly onGiveUp: (err: Error) => void;
}

export class EmulatorProcess implements Emulator {
  private constructor(
    private readonly part: SupervisedPart<EmulatorReadyMessage>,
    readonly endpoint: string,
    readonly port: number,
    /** The student records' DynamoDB-compatible server. */
    readonly dynamodbEndpoint: string,
  ) {}

  static async start(options: EmulatorProcessOptions): Promise<EmulatorProcess> {
    // The port it was asked for first (0 picks a free one), then the one it got, so that a restart keeps it.
    let port = options.port;
    let dynamodbPort = options.dynamodbPort;
    let first: EmulatorReadyMessage | undefined;
    const part = new SupervisedPart<EmulatorReadyMessage>({
      main: EMULATOR_MAIN,
      name: 'S3+SQS emulator',
      readyType: 'facefleet:emulator-ready',
      env: () => ({ ...options.env, EMULATOR_PORT: String(port), DYNAMODB_PORT: String(dynamodbPort) }),
      logger: options.logger,
      stopGraceMs: options.stopGraceMs,
      onReady: (m) => {
        if (first)
          options.logger.info({ endpoint: m.endpoint }, 'the S3+SQS emulator runs again with the state it kept');
        first ??= m;
        port = m.port;
        dynamodbPort = m.dynamodbPort;
      },
      onGiveUp: options.onGiveUp,
    });
    await part.start();
    return new EmulatorProcess(part, first!.endpoint, first!.port, first!.dynamodbEndpoint);
  }

  get pid(): number {
    return this.part.pid!;
  }

  /** Sends a signal to the emulator process; tests use SIGKILL to crash it. */
  kill(signal: NodeJS.Signals): void {
    this.part.kill(signal);
  }

  stop(): Promise<void> {
    return this.part.stop();
  }
}
