/**
 * The whole system on one machine: the embedded S3+SQS emulator, the buckets and queues, the autoscaler (a
 * child process, restarted if it dies) with the local fleet of worker processes, and the web tier, all with
 * the same code that runs on AWS.
 */
import { createS3Client, createSqsClient } from '../shared/aws.js';
import { childEnvironment, loadConfig, type Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { ensureResources, retentionRules, type QueueUrls } from '../shared/resources.js';
import { LocalFleet } from '../autoscaler/local-fleet.js';
import { startWebTier, type RunningWebTier } from '../web-tier/server.js';
import { AutoscalerProcess } from './autoscaler-process.js';
import { startEmulatorProcess, type EmulatorProcess } from './emulator-process.js';
import { RetentionSweeper } from './retention-sweeper.js';

export interface LocalStack {
  readonly config: Config;
  readonly emulator: EmulatorProcess;
  readonly queues: QueueUrls;
  /** The workers, seen through the same registry the autoscaler uses (for inspection and shutdown). */
  readonly fleet: LocalFleet;
  readonly autoscaler: AutoscalerProcess;
  readonly web: RunningWebTier;
  stop(): Promise<void>;
}

/**
 * Starts every part. `onEmulatorExit` is told if the emulator process dies under the running stack (its
 * state goes with it, so the caller should stop).
 */
export async function startLocalStack(
  base: Config,
  logger: Logger,
  onEmulatorExit: (code: number | null, signal: NodeJS.Signals | null) => void = (code, signal) =>
    logger.error({ code, signal }, 'the S3+SQS emulator died; requests will fail until the stack is restarted'),
): Promise<LocalStack> {
  if (base.stack !== 'local') {
    throw new Error('npm start runs the local stack; with FACEFLEET_STACK=aws start each tier with its own main.');
  }
  if (base.fleet.driver !== 'local') throw new Error('npm start runs workers locally; unset FLEET_DRIVER.');
  const emulator = await startEmulatorProcess({
    port: base.emulator.port,
    stopGraceMs: base.shutdownGraceSeconds * 1000,
    onExit: onEmulatorExit,
  });
  const started: { stop(): Promise<void> }[] = [emulator];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop();
  };
  try {
    // Re-derive the config so that every part, and every child process, uses the emulator's actual port.
    // Workers belong to this process: they stop when it is gone, whatever happens to the autoscaler.
    const overrides = {
      AWS_ENDPOINT_URL: emulator.endpoint,
      EMULATOR_PORT: String(emulator.port),
      FLEET_OWNER_PID: String(process.pid),
    };
    const config = loadConfig(childEnvironment(overrides, { keepSecrets: true }));
    const s3 = createS3Client(config);
    const sqs = createSqsClient(config);
    const queues = await ensureResources(config, s3, sqs);
    sqs.destroy();
    // The emulator has no lifecycle rules: this process applies the retention that S3 applies on AWS.
    const days = config.retention.days;
    const sweeper =
      days === undefined
        ? undefined
        : new RetentionSweeper({ s3, rules: retentionRules(config.resources), maxAgeMs: days * 86_400_000, logger });
    sweeper?.start();
    started.push({
      stop: async () => {
        await sweeper?.stop();
        s3.destroy();
      },
    });
    logger.info({ endpoint: emulator.endpoint, resources: config.resources }, 'emulator ready');

    const fleet = new LocalFleet({
      dir: config.fleet.dir,
      logger,
      ownerPid: process.pid,
      stopGraceMs: config.shutdownGraceSeconds * 1000,
    });
    // Workers left by an earlier stack of this name that died outright: stop them before we start.
    await fleet.close();
    started.push({ stop: () => fleet.close() });
    const autoscaler = new AutoscalerProcess({
      env: overrides,
      logger,
      stopGraceMs: config.shutdownGraceSeconds * 1000,
    });
    started.push(autoscaler);
    await autoscaler.start();
    const web = await startWebTier(config, logger, queues, { statusUrl: () => autoscaler.statusUrl });
    started.push(web);
    return { config, emulator, queues, fleet, autoscaler, web, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
