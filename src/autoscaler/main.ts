/**
 * Entry point of the autoscaler (a systemd unit on the web-tier instance on AWS, a child process under
 * `npm start`): the controller loop over the configured fleet driver, and its status endpoint. Stopping it
 * leaves the fleet as it is; the next autoscaler finds the workers again and carries on.
 */
import { createSqsClient } from '../shared/aws/clients.js';
import { createLogger } from '../shared/logger.js';
import { runMain, type AutoscalerReadyMessage } from '../shared/process.js';
import { resolveQueueUrls } from '../shared/aws/resources.js';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { AsgFleet } from './asg-fleet.js';
import { AutoscalerMetrics } from './autoscaler-metrics.js';
import { AutoscalerController } from './controller.js';
import { createEc2Fleet } from './ec2-fleet.js';
import type { Fleet } from './fleet.js';
import { LocalFleet } from './local-fleet.js';
import { startStatusServer } from './status-server.js';

await runMain('autoscaler', async (config) => {
  const logger = createLogger(config, { tier: 'autoscaler' });
  const sqs = createSqsClient(config);
  const queues = await resolveQueueUrls(config, sqs);
  const fleet: Fleet =
    config.fleet.driver === 'local'
      ? new LocalFleet({
          dir: config.fleet.dir,
          logger,
          ownerPid: config.fleet.ownerPid ?? process.pid,
          stopGraceMs: config.shutdownGraceSeconds * 1000,
          livenessTimeoutMs: config.fleet.livenessSeconds * 1000,
          warmWorkers: config.fleet.warmWorkers,
        })
      : config.fleet.driver === 'asg'
        ? new AsgFleet({
            autoscaling: new AutoScalingClient({ region: config.aws.region }),
            ec2: new EC2Client({ region: config.aws.region }),
            groupName: config.fleet.group.name,
            logger,
          })
        : createEc2Fleet(config, logger);
  // The metrics read the controller's status, and the controller tells them of each decision.
  const metrics: AutoscalerMetrics = new AutoscalerMetrics(() => controller.status());
  const controller = new AutoscalerController({
    sqs,
    requestQueueUrl: queues.request,
    videoQueueUrl: queues.video,
    fleet,
    policy: config.autoscaler.policy,
    pollIntervalMs: config.autoscaler.pollIntervalMs,
    idlePollIntervalMs: config.autoscaler.idlePollIntervalMs,
    logger,
    observer: metrics,
  });
  const server = await startStatusServer(
    () => controller.status(),
    metrics.registry,
    config.autoscaler.host,
    config.autoscaler.port,
  );
  controller.start();
  logger.info(
    { driver: config.fleet.driver, policy: config.autoscaler.policy, status: server.url },
    'autoscaler running',
  );
  const ready: AutoscalerReadyMessage = { type: 'facefleet:autoscaler-ready', statusUrl: server.url };
  process.send?.(ready);
  return {
    logger,
    async stop() {
      await controller.stop();
      await server.close();
      sqs.destroy();
      logger.info('autoscaler stopped; the fleet is left as it is');
    },
  };
});
