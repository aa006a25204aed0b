/** `npm start`: the whole system on this machine, no AWS account needed. Ctrl-C stops every part. */
import { createLogger } from '../shared/logger.js';
import { runMain, type StackReadyMessage } from '../shared/process.js';
import { startLocalStack } from './stack.js';

await runMain('facefleet', async (config) => {
  const logger = createLogger(config, { tier: 'local' });
  const stack = await startLocalStack(config, logger, (code, signal) => {
    logger.error(
      { code, signal },
      'the S3+SQS emulator died, and every stored object and queued message with it; stopping',
    );
    void stack.stop().finally(() => process.exit(1));
  });
  const { minWorkers, maxWorkers } = stack.config.autoscaler.policy;
  logger.info(
    { url: stack.web.url, status: `${stack.web.url}/status`, minWorkers, maxWorkers },
    `ready: curl -X POST -F "inputFile=@test_00.jpg" ${stack.web.url}/  (enroll a gallery first: npm run enroll); ` +
      `workers start with the first requests`,
  );
  // A parent process that started us (the benchmark) learns the ports we were given.
  const ready: StackReadyMessage = {
    type: 'facefleet:stack-ready',
    webUrl: stack.web.url,
    endpoint: stack.emulator.endpoint,
    pids: { webTier: process.pid, emulator: stack.emulator.pid, autoscaler: stack.autoscaler.pid },
    fleetDir: stack.config.fleet.dir,
  };
  process.send?.(ready);
  return { logger, stop: () => stack.stop() };
});
