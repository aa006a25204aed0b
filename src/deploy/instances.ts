/** The instances of one deployment (fleet and web), for status, teardown and the warm pool. */
import { DescribeInstancesCommand, TerminateInstancesCommand, waitUntilInstanceTerminated } from '@aws-sdk/client-ec2';
import { FLEET_TAG } from '../autoscaler/ec2-fleet.js';
import { WEB_GROUP_TAG, WEB_TAG } from '../shared/config/resources-names.js';
import { DeployError, type AwsClients, type Deployment, type Session } from './session.js';

/** The web instance, the web group's and every app-tier instance of this deployment not terminated yet. */
export async function deploymentInstances({
  prefix,
  clients: { ec2 },
  session,
}: {
  prefix: string;
  clients: Pick<AwsClients, 'ec2'>;
  session: Session;
}) {
  const found = [];
  for (const tag of [FLEET_TAG, WEB_TAG, WEB_GROUP_TAG]) {
    const { Reservations = [] } = await session.read(
      'instances',
      ec2,
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${tag}`, Values: [prefix] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] },
        ],
      }),
    );
    found.push(...Reservations.flatMap((r) => r.Instances ?? []));
  }
  return found;
}

/** Terminates every instance of the deployment (fleet, web, web group), and waits until they are gone. */
export async function terminateInstances(
  deployment: Deployment & { prefix: string },
  waitSeconds = 600,
): Promise<void> {
  const instances = await deploymentInstances(deployment);
  const ids = instances.map((i) => i.InstanceId!).filter(Boolean);
  if (ids.length === 0) {
    deployment.session.report('instances', 'already gone');
    return;
  }
  await deployment.session.change(
    'instances',
    deployment.clients.ec2,
    new TerminateInstancesCommand({ InstanceIds: ids }),
  );
  if (!deployment.session.dryRun) {
    await waitUntilInstanceTerminated(
      { client: deployment.clients.ec2, maxWaitTime: waitSeconds, minDelay: 5, maxDelay: 15 },
      { InstanceIds: ids },
    ).catch((err: unknown) => {
      throw new DeployError(
        `instances: ${ids.join(', ')} did not terminate in time (${(err as Error).message}); run teardown again.`,
        'instances',
        { cause: err },
      );
    });
  }
  deployment.session.report('instances', 'deleted', ids.join(', '));
}
