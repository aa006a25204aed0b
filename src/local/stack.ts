/**
 * The whole system on one machine: the embedded S3+SQS emulator, the buckets and queues, app-tier workers as
 * child processes through the local fleet driver, and the web tier, all with the same code that runs on AWS.
 */
import { createS3Client, createSqsClient } from '../shared/aws.js';
import { childEnvironment, loadConfig, type Config } from '../shared/config.js';
import { startEmulator, type Emulator } from '../shared/emulator.js';
import type { Logger } from '../shared/logger.js';
import { ensureResources, type QueueUrls } from '../shared/resources.js';
import { LocalFleet } from '../autoscaler/local-fleet.js';
import { startWebTier, type RunningWebTier } from '../web-tier/server.js';

export interface LocalStack {
  readonly config: Config;
  readonly emulator: Emulator;
  readonly queues: QueueUrls;
  readonly fleet: LocalFleet;
  readonly web: RunningWebTier;
  stop(): Promise<void>;
}

export async function startLocalStack(base: Config, logger: Logger): Promise<LocalStack> {
  if (base.stack !== 'local') {
    throw new Error('npm start runs the local stack; with FACEFLEET_STACK=aws start each tier with its own main.');
  }
  const emulator = await startEmulator({ port: base.emulator.port, region: base.aws.region });
  const started: { stop(): Promise<void> }[] = [emulator];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop();
  };
  try {
    // Re-derive the config so that every part, and every child worker, uses the emulator's actual port.
    const overrides = { AWS_ENDPOINT_URL: emulator.endpoint, EMULATOR_PORT: String(emulator.port) };
    const config = loadConfig(childEnvironment(overrides));
    const s3 = createS3Client(config);
    const sqs = createSqsClient(config);
    const queues = await ensureResources(config, s3, sqs);
    s3.destroy();
    sqs.destroy();
    logger.info({ endpoint: emulator.endpoint, resources: config.resources }, 'emulator ready');

    const fleet = new LocalFleet({
      logger,
      env: overrides,
      stopGraceMs: config.shutdownGraceSeconds * 1000,
      replaceCrashed: true,
    });
    started.push({ stop: () => fleet.close() });
    await fleet.launch(config.fleet.localWorkers);
    const web = await startWebTier(config, logger, queues);
    started.push(web);
    return { config, emulator, queues, fleet, web, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
