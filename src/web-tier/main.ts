/** Entry point of the web tier on its own (the web-tier EC2 instance): `node --import tsx src/web-tier/main.ts`. */
import { createSqsClient } from '../shared/aws.js';
import { createLogger } from '../shared/logger.js';
import { runMain } from '../shared/process.js';
import { resolveQueueUrls } from '../shared/resources.js';
import { startWebTier } from './server.js';

await runMain('web-tier', async (config) => {
  const logger = createLogger(config, { tier: 'web' });
  const sqs = createSqsClient(config);
  const queues = await resolveQueueUrls(config, sqs);
  sqs.destroy();
  const web = await startWebTier(config, logger, queues);
  return { logger, stop: () => web.stop() };
});
