/** Structured logs: pino JSON lines, or pretty lines when writing to a terminal. */
import { pino, type Logger } from 'pino';
import type { Config } from './config/config.js';

export type { Logger };

export function createLogger(config: Config, bindings: Record<string, unknown>): Logger {
  const pretty = config.log.format === 'pretty' || (config.log.format === 'auto' && process.stdout.isTTY === true);
  return pino({
    level: config.log.level,
    base: bindings,
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } } }
      : {}),
  });
}
