/**
 * `npm start`'s autoscaler: src/autoscaler/main.ts in a child process, started again if it dies (as systemd
 * does on AWS). Its workers do not depend on it, so a restart adopts them. It reports where its status endpoint
 * listens; the web tier reads that for its own GET /status.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.js';
import type { AutoscalerReadyMessage } from '../shared/process.js';
import { ListeningPart } from '../shared/child-part.js';

const AUTOSCALER_MAIN = fileURLToPath(new URL('../autoscaler/main.ts', import.meta.url));

export class AutoscalerProcess extends ListeningPart<AutoscalerReadyMessage> {
  constructor(options: { env: Record<string, string>; logger: Logger; stopGraceMs: number }) {
    super({
      ...options,
      main: AUTOSCALER_MAIN,
      name: 'autoscaler',
      readyType: 'facefleet:autoscaler-ready',
      addressOf: (m) => m.statusUrl,
      lost: 'the fleet no longer scales',
    });
  }

  /** Where its GET /status answers; undefined while it (re)starts. */
  get statusUrl(): string | undefined {
    return this.url;
  }
}
