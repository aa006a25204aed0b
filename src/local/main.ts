/**
 * `npm start`: the whole system on this machine, no AWS account needed. Ctrl-C stops every part; what it was
 * given stays in the data directory for the next start. `npm start -- --fresh` starts empty.
 */
import { Command } from 'commander';
import { createLogger } from '../shared/logger.js';
import { runMain, type StackReadyMessage } from '../shared/process.js';
import { startLocalStack, type LocalStack } from './stack.js';

const options = new Command()
  .name('npm start --')
  .description('Run the whole system on this machine: emulator, queues, autoscaler, workers and web tier.')
  .option(
    '--fresh',
    'start empty: delete what the data directory (DATA_DIR, default .facefleet/) keeps: every object, ' +
      'the gallery among them, every queue and its messages, the fleet registry',
    false,
  )
  .showHelpAfterError()
  .parse()
  .opts<{ fresh: boolean }>();

await runMain('facefleet', async (config) => {
  const logger = createLogger(config, { tier: 'local' });
  const stack: LocalStack = await startLocalStack(config, logger, {
    fresh: options.fresh,
    makeApiKey: true,
    onEmulatorLost: (err) => {
      logger.error({ err }, 'the S3+SQS emulator keeps dying; stopping (its state is kept)');
      void stack.stop().finally(() => process.exit(1));
    },
  });
  const { minWorkers, maxWorkers } = stack.config.autoscaler.policy;
  const { people, galleryVersion } = stack.found;
  const url = stack.web.url;
  // The local key, made or kept in the data directory, is said here once: the link signs a browser in. It goes
  // to no other log line, and no process but the web tier's holds it.
  const key = stack.localApiKey;
  const consoleUrl = key ? `${url}/console/#key=${key.key}` : `${url}/console/`;
  logger.info(
    {
      url,
      console: consoleUrl,
      ...(key
        ? { apiKey: `${key.made ? 'made' : 'kept'} in ${stack.config.dataDir}/api-key (API_KEY overrides it)` }
        : {}),
      status: `${url}/status`,
      monitor: stack.monitor.url,
      dataDir: stack.config.dataDir,
      people,
      galleryVersion,
      minWorkers,
      maxWorkers,
    },
    people === 0
      ? `ready on ${url}, and the gallery is empty: enroll people first, one folder of photos per person, with ` +
          `npm run enroll -- --images <folder>, or in the console: ${consoleUrl} (docs/api.md has the enrollment API); ` +
          'workers start with the first requests'
      : `ready: curl -X POST -F "inputFile=@photo.jpg" ${url}/  (${people} people enrolled), or open ${consoleUrl} ; ` +
          'workers start with the first requests',
  );
  // A parent process that started us (the benchmark, the durability tests) learns the ports we were given.
  const ready: StackReadyMessage = {
    type: 'facefleet:stack-ready',
    webUrl: url,
    endpoint: stack.emulator.endpoint,
    pids: {
      webTier: process.pid,
      webProcesses: stack.web.pids(),
      emulator: stack.emulator.pid,
      autoscaler: stack.autoscaler.pid,
    },
    fleetDir: stack.config.fleet.dir,
  };
  process.send?.(ready);
  return { logger, stop: () => stack.stop() };
});
