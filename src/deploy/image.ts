/**
 * `npm run aws:image -- --instance i-…`: turns a baked instance (deploy/bake.sh has run on it) into the
 * app-tier AMI, waits until the image is available, and prints its id for `npm run aws:provision -- --ami`.
 */
import { CreateImageCommand, waitUntilImageAvailable } from '@aws-sdk/client-ec2';
import { DEPLOYMENT_TAG } from './names.js';
import { DeployError, type AwsClients, type Session } from './session.js';

export async function createAppTierImage(options: {
  prefix: string;
  instanceId: string;
  clients: Pick<AwsClients, 'ec2'>;
  session: Session;
  now?: Date;
  waitSeconds?: number;
}): Promise<string> {
  const stamp = (options.now ?? new Date()).toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const step = `image from ${options.instanceId}`;
  const { ImageId } = await options.session.change(
    step,
    options.clients.ec2,
    new CreateImageCommand({
      InstanceId: options.instanceId,
      Name: `${options.prefix}-app-tier-${stamp}`,
      Description: 'facefleet app tier: Node, the project with its models, the worker unit (deploy/bake.sh)',
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: DEPLOYMENT_TAG, Value: options.prefix }] }],
    }),
    { ImageId: 'ami-would-be-created' },
  );
  if (!ImageId) throw new DeployError(`${step}: EC2 returned no image id`, step);
  if (!options.session.dryRun) {
    await waitUntilImageAvailable(
      { client: options.clients.ec2, maxWaitTime: options.waitSeconds ?? 1800, minDelay: 15, maxDelay: 30 },
      { ImageIds: [ImageId] },
    ).catch((err: unknown) => {
      throw new DeployError(`${step}: ${ImageId} is not available yet; check the EC2 console`, step, { cause: err });
    });
  }
  options.session.report(step, 'created', ImageId);
  return ImageId;
}
