/**
 * `npm start`'s monitoring server: src/monitor/main.ts in a child process, started again if it dies. It reports
 * where it listens; the web tier forwards /monitoring/ there.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.js';
import type { MonitorReadyMessage } from '../shared/process.js';
import { SupervisedPart } from './child-part.js';

const MONITOR_MAIN = fileURLToPath(new URL('../monitor/main.ts', import.meta.url));

export class MonitorProcess {
  private readonly part: SupervisedPart<MonitorReadyMessage>;
  private current: string | undefined;

  constructor(o: { env: Record<string, string>; logger: Logger; stopGraceMs: number }) {
    this.part = new SupervisedPart<MonitorReadyMessage>({
      main: MONITOR_MAIN,
      name: 'monitoring server',
      readyType: 'facefleet:monitor-ready',
      env: () => {
        this.current = undefined;
        return o.env;
      },
      logger: o.logger,
      stopGraceMs: o.stopGraceMs,
      onReady: (m) => (this.current = m.url),
      onGiveUp: (err) =>
        o.logger.error({ err }, 'the monitoring server keeps dying and is not started again; reports are dropped'),
    });
  }

  start(): Promise<void> {
    return this.part.start();
  }

  /** Where it answers; undefined while it (re)starts. */
  get url(): string | undefined {
    return this.current;
  }

  kill(signal: NodeJS.Signals): void {
    this.part.kill(signal);
  }

  stop(): Promise<void> {
    return this.part.stop();
  }
}
