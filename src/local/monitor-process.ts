/**
 * `npm start`'s monitoring server: src/monitor/main.ts in a child process, started again if it dies. It reports
 * where it listens; the web tier forwards /monitoring/ there.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.js';
import type { MonitorReadyMessage } from '../shared/process.js';
import { ListeningPart } from '../shared/child-part.js';

const MONITOR_MAIN = fileURLToPath(new URL('../monitor/main.ts', import.meta.url));

export class MonitorProcess extends ListeningPart<MonitorReadyMessage> {
  constructor(options: { env: Record<string, string>; logger: Logger; stopGraceMs: number }) {
    super({
      ...options,
      main: MONITOR_MAIN,
      name: 'monitoring server',
      readyType: 'facefleet:monitor-ready',
      addressOf: (m) => m.url,
      lost: 'reports are dropped',
      // The forward token: it believes the web tier's forwarded client addresses with it.
      keepSecrets: 'monitor',
    });
  }
}
