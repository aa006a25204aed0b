/**
 * `npm run aws:warm-pool -- --size N`: pre-creates the warm pool, so that even the first burst starts stopped
 * instances (seconds) instead of booting new ones (up to a minute). It launches the missing app-tier instances
 * with the fleet driver the autoscaler uses (same names, tags and template), waits until they run, and stops
 * them. The autoscaler must run with WARM_POOL=true to use them; it keeps the pool by stopping, not
 * terminating, on scale-in.
 */
import { waitUntilInstanceRunning } from '@aws-sdk/client-ec2';
import pino from 'pino';
import { Ec2Fleet, FLEET_TAG } from '../autoscaler/ec2-fleet.js';
import { DeployError, type AwsClients, type Session } from './session.js';
import { deploymentInstances } from './instances.js';

export async function ensureWarmPool(options: {
  prefix: string;
  size: number;
  launchTemplateId: string;
  clients: AwsClients;
  session: Session;
}): Promise<string[]> {
  const step = `warm pool of ${options.size}`;
  const existing = (await deploymentInstances(options)).filter((i) => i.Tags?.some((t) => t.Key === FLEET_TAG));
  const missing = options.size - existing.length;
  if (missing <= 0) {
    options.session.report(step, 'unchanged', `${existing.length} app-tier instances exist`);
    return [];
  }
  if (options.session.dryRun) {
    options.session.report(
      step,
      'created',
      `${missing} app-tier instances from ${options.launchTemplateId}, then stopped`,
    );
    return [];
  }
  const fleet = new Ec2Fleet({
    ec2: options.clients.ec2,
    fleetName: options.prefix,
    launchTemplate: options.launchTemplateId,
    warmPool: true,
    logger: pino({ level: 'silent' }),
  });
  const ids = await fleet.launch(missing).catch((err: unknown) => {
    throw new DeployError(`${step}: launching failed (${(err as Error).message})`, step, { cause: err });
  });
  await waitUntilInstanceRunning({ client: options.clients.ec2, maxWaitTime: 600 }, { InstanceIds: ids }).catch(
    (err: unknown) => {
      throw new DeployError(`${step}: ${ids.join(', ')} did not reach running; run this again`, step, { cause: err });
    },
  );
  await fleet.stop(ids);
  options.session.report(step, 'created', `${ids.length} instances launched and stopped: ${ids.join(', ')}`);
  return ids;
}
