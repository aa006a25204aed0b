/**
 * The shape every entry point shares: check the Node.js version and parse the config (either ends the process
 * with a sentence), start, and on SIGINT/SIGTERM stop gracefully once; a second signal exits at once.
 */
import { loadConfig, ConfigError, type Config } from './config/config.js';
import type { Logger } from './logger.js';
import { unsupportedNode } from './runtime.js';

/** What the autoscaler tells the process that started it (npm start) once it runs. */
export interface AutoscalerReadyMessage {
  readonly type: 'facefleet:autoscaler-ready';
  /** Where its GET /status answers. */
  readonly statusUrl: string;
}

/** What the monitoring server tells npm start once it listens. */
export interface MonitorReadyMessage {
  readonly type: 'facefleet:monitor-ready';
  /** Where it answers (`http://127.0.0.1:8010`). */
  readonly url: string;
}

/** What npm start's emulator process tells npm start once it listens. */
export interface EmulatorReadyMessage {
  readonly type: 'facefleet:emulator-ready';
  readonly endpoint: string;
  readonly port: number;
  /** The DynamoDB-compatible server (dynalite) beside it, for the student records. */
  readonly dynamodbEndpoint: string;
  readonly dynamodbPort: number;
}

/** What `npm start` tells a parent process (the benchmark) once the whole stack takes requests. */
export interface StackReadyMessage {
  readonly type: 'facefleet:stack-ready';
  readonly webUrl: string;
  readonly endpoint: string;
  /** The processes of the stack, so that the benchmark can account each one's CPU and memory. */
  readonly pids: {
    /** npm start itself: the web tier with one web process, their supervisor with several. */
    readonly webTier: number;
    /** The processes that take requests: npm start's alone, or its web processes (WEB_PROCESSES). */
    readonly webProcesses: readonly number[];
    readonly emulator: number;
    readonly autoscaler: number | undefined;
  };
  /** The local fleet's registry directory, where each worker's pid is recorded. */
  readonly fleetDir: string;
}

export interface Started {
  readonly logger: Logger;
  stop(): Promise<void>;
}

export async function runMain(name: string, start: (config: Config) => Promise<Started>): Promise<void> {
  const oldNode = unsupportedNode();
  if (oldNode) {
    process.stderr.write(`${name}: ${oldNode}\n`);
    process.exit(2);
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let started: Started;
  try {
    started = await start(config);
  } catch (err) {
    process.stderr.write(`${name} could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof Error && err.cause) process.stderr.write(`  cause: ${String(err.cause)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second Ctrl-C is a person who will not wait. A second SIGTERM is not: systemd and a supervisor may both
    // send one (the web tier's processes), and the drain under way must finish.
    if (stopping && signal === 'SIGINT') {
      started.logger.warn({ signal }, 'second signal; exiting now');
      process.exit(130);
    }
    if (stopping) return;
    stopping = true;
    started.logger.info({ signal }, 'stopping');
    started.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        started.logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A child process started over IPC (npm start's autoscaler) stops when its parent goes away, even if the
  // parent was killed outright.
  if (process.connected) process.once('disconnect', () => onSignal('SIGTERM'));
}
