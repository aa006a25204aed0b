/**
 * `npm run aws:image -- --instance i-…`: turns a baked instance (deploy/bake.sh has run on it) into the
 * app-tier AMI, waits until the image is available, and prints its id for `npm run aws:provision -- --ami`.
 */
import { CreateImageCommand, waitUntilImageAvailable } from '@aws-sdk/client-ec2';
import { DEPLOYMENT_TAG } from './names.js';
import { DeployError, type AwsClients, type Session } from './session.js';

export async function createAppTierImage(o: {
  prefix: string;
  instanceId: string;
  clients: Pick<AwsClients, 'ec2'>;
  session: Session;
  now?: Date;
  waitSeconds?: number;
}): Promise<string> {
  const stamp = (o.now ?? new Date()).toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const step = `image from ${o.instanceId}`;
  const { ImageId } = await o.session.change(
    step,
    o.clients.ec2,
    new CreateImageCommand({
      InstanceId: o.instanceId,
      Name: `${o.prefix}-app-tier-${stamp}`,
      Description: 'facefleet app tier: Node, the project with its models, the worker unit (deploy/bake.sh)',
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: DEPLOYMENT_TAG, Value: o.prefix }] }],
    }),
    { ImageId: 'ami-would-be-created' },
  );
  if (!ImageId) throw new DeployError(`${step}: EC2 returned no image id`, step);
  if (!o.session.dryRun) {
    await waitUntilImageAvailable(
      { client: o.clients.ec2, maxWaitTime: o.waitSeconds ?? 1800, minDelay: 15, maxDelay: 30 },
      { ImageIds: [ImageId] },
    ).catch((err: unknown) => {
      throw new DeployError(`${step}: ${ImageId} is not available yet; check the EC2 console`, step, { cause: err });
    });
  }
  o.session.report(step, 'created', ImageId);
  return ImageId;
}
