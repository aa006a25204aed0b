/**
 * `npm start`'s S3+SQS emulator, and the DynamoDB-compatible server of the student records (dynalite, its
 * LevelDB in DATA_DIR/dynamodb), in a process of their own, so that its CPU and memory are its own and not the
 * web tier's (each tier's cost is then measurable, as on AWS where the services are not on our machines). It
 * keeps its state in the data directory (DATA_DIR), and tells the process that started it where it listens.
 */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { dataDirLayout } from '../shared/config/data-dir.js';
import { startEmulator } from './emulator.js';
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
  const dynamodb = dynalite({
    path: dataDirLayout(config.dataDir).dynamodb,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    dynamodb.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${config.dynamodb.port} is in use: stop what holds it or set DYNAMODB_PORT to a free port`)
          : err,
      ),
    );
    dynamodb.listen(config.dynamodb.port, config.emulator.host, resolve);
  });
  const dynamodbPort = (dynamodb.address() as AddressInfo).port;
  const ready: EmulatorReadyMessage = {
    type: 'facefleet:emulator-ready',
    endpoint: emulator.endpoint,
    port: emulator.port,
    dynamodbEndpoint: `http://${config.emulator.host}:${dynamodbPort}`,
    dynamodbPort,
  };
  process.send?.(ready);
  return {
    logger,
    stop: async () => {
      await new Promise((resolve) => dynamodb.close(resolve));
      await emulator.stop();
    },
  };
});
