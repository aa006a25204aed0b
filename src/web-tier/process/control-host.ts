/**
 * On an instance of the web group (WEB_GROUP_MEMBER): where the web instance is, the one that runs the
 * autoscaler and the monitor. Found by its tag (the same DescribeInstances the web role already makes for the
 * fleet), and looked for again every minute, so that a web instance that was replaced is found anew.
 */
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { WEB_TAG } from '../../shared/config/resources-names.js';
import type { Logger } from '../../shared/logger.js';
import { PollLoop } from '../../shared/poll-loop.js';

const LOOK_EVERY_MS = 60_000;

export class ControlHost {
  private address: string | undefined;
  private readonly loop: PollLoop;

  constructor(
    private readonly ec2: EC2Client,
    private readonly prefix: string,
    logger: Logger,
  ) {
    this.loop = new PollLoop({
      round: () => this.look(),
      intervalMs: LOOK_EVERY_MS,
      backoffMs: () => LOOK_EVERY_MS / 4,
      onError: (err) => logger.warn({ err }, 'could not find the web instance (autoscaler, monitor); trying again'),
      abortRoundOnStop: true,
    });
  }

  /** The web instance's private address; undefined until it is found. */
  get privateAddress(): string | undefined {
    return this.address;
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async look(): Promise<void> {
    const { Reservations = [] } = await this.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${WEB_TAG}`, Values: [this.prefix] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    this.address = Reservations.flatMap((r) => r.Instances ?? []).find((i) => i.PrivateIpAddress)?.PrivateIpAddress;
  }
}
