/** The instances of one deployment, for status, teardown and the warm pool. */
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { FLEET_TAG } from '../autoscaler/ec2-fleet.js';
import { WEB_TAG } from './names.js';
import type { AwsClients, Session } from './session.js';

/** The web instance and every app-tier instance of this deployment that is not terminated yet. */
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
  for (const tag of [FLEET_TAG, WEB_TAG]) {
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
