/**
 * `npm start`'s S3+SQS emulator in a process of its own, so that its CPU and memory are its own and not the
 * web tier's (each tier's cost is then measurable, as on AWS where the services are not on our machines). It
 * keeps its state in the data directory (DATA_DIR), and tells the process that started it where it listens.
 */
import { startEmulator } from '../shared/emulator.js';
import { createLogger } from '../shared/logger.js';
import { runMain, type EmulatorReadyMessage } from '../shared/process.js';

await runMain('emulator', async (config) => {
  const logger = createLogger(config, { tier: 'emulator' });
  const emulator = await startEmulator({
    port: config.emulator.port,
    host: config.emulator.host,
    region: config.aws.region,
    dataDir: config.dataDir,
    onRecovered: ({ finished, dropped, damaged }) => {
      if (finished.length + dropped.length > 0) {
        logger.info({ finished, dropped }, 'object writes a crash interrupted were finished or dropped');
      }
      for (const d of damaged) logger.warn(d, 'an object a crash left torn was set aside; it is not served');
    },
  });
  const ready: EmulatorReadyMessage = {
    type: 'facefleet:emulator-ready',
    endpoint: emulator.endpoint,
    port: emulator.port,
  };
  process.send?.(ready);
  return { logger, stop: () => emulator.stop() };
});
