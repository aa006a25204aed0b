/**
 * Entry point of the web tier on its own (the web-tier EC2 instance): `node --import tsx src/web-tier/main.ts`.
 * With WEB_PROCESSES above 1 it supervises that many web processes on one port (web-processes.ts), each of
 * which runs this file again with WEB_PROCESS_INDEX set.
 */
import { createSqsClient } from '../shared/aws/clients.js';
import { createLogger } from '../shared/logger.js';
import { runMain } from '../shared/process.js';
import { resolveQueueUrls } from '../shared/aws/resources.js';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DEFAULT_MONITOR_PORT } from '../shared/config/settings.js';
import { ControlHost } from './process/control-host.js';
import { startWebTier } from './server.js';
import { WebProcessGroup, type WebProcessReadyMessage } from './process/web-processes.js';

await runMain('web-tier', async (config) => {
  const logger = createLogger(config, { tier: 'web' });
  if (config.web.processes > 1 && config.web.processIndex === undefined) {
    const group = await WebProcessGroup.start({
      processes: config.web.processes,
      port: config.web.port,
      env: () => ({}),
      logger,
      stopGraceMs: (config.shutdownGraceSeconds + 5) * 1000,
    });
    return { logger, stop: () => group.stop() };
  }
  const sqs = createSqsClient(config);
  const queues = await resolveQueueUrls(config, sqs);
  sqs.destroy();
  // In a web group, the autoscaler and the monitor are the web instance's.
  const control = config.web.groupMember
    ? new ControlHost(new EC2Client({ region: config.aws.region }), config.resources.prefix, logger)
    : undefined;
  control?.start();
  const at = (port: number, path = '') =>
    control?.privateAddress ? `http://${control.privateAddress}:${port}${path}` : undefined;
  const web = await startWebTier(
    config,
    logger,
    queues,
    control
      ? { statusUrl: () => at(config.autoscaler.port, '/status'), monitorUrl: () => at(DEFAULT_MONITOR_PORT) }
      : {},
  );
  // A supervisor that started this process learns that it takes requests, and on which port.
  const ready: WebProcessReadyMessage = { type: 'facefleet:web-ready', port: web.port, process: web.snapshot() };
  process.send?.(ready);
  return {
    logger,
    stop: async () => {
      await web.stop();
      await control?.stop();
    },
  };
});
