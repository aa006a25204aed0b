/**
 * `npm start`'s stand-in for the S3 lifecycle rules provisioning sets on AWS: the emulator has no lifecycle,
 * so this deletes what the same rules (retentionRules) would expire: objects older than RETENTION_DAYS.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../shared/logger.js';
import { PollLoop } from '../shared/poll-loop.js';
import { deleteKeys, listObjects } from '../shared/aws/s3-objects.js';
/** At most hourly, and four times per retention period, so that nothing outlives its period by much. */
const MAX_INTERVAL_MS = 3_600_000;

export interface RetentionSweeperOptions {
  readonly s3: S3Client;
  readonly rules: readonly { readonly bucket: string; readonly prefix: string }[];
  readonly maxAgeMs: number;
  readonly logger: Logger;
}

export class RetentionSweeper {
  private readonly loop: PollLoop;

  constructor(private readonly options: RetentionSweeperOptions) {
    this.loop = new PollLoop({
      round: async () => {
        await this.sweep();
      },
      intervalMs: this.intervalMs,
      // The web tier's own start-up work comes first; the first sweep is one interval later.
      pauseFirst: true,
      backoffMs: () => this.intervalMs,
      onError: (err) => options.logger.warn({ err }, 'retention sweep failed; trying again later'),
      abortRoundOnStop: false,
    });
  }

  get intervalMs(): number {
    return Math.max(1000, Math.min(MAX_INTERVAL_MS, this.options.maxAgeMs / 4));
  }

  start(): void {
    this.loop.start();
  }

  /** Stops sweeping, once a sweep in progress has finished. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Deletes what has expired under every rule; returns how many objects went. */
  async sweep(now = Date.now()): Promise<number> {
    let deleted = 0;
    for (const { bucket, prefix } of this.options.rules) {
      for await (const page of listObjects(this.options.s3, bucket, prefix)) {
        const expired = page
          .filter((o) => o.Key && o.LastModified && now - o.LastModified.getTime() > this.options.maxAgeMs)
          .map((o) => o.Key!);
        await deleteKeys(this.options.s3, bucket, expired);
        deleted += expired.length;
      }
    }
    if (deleted > 0) this.options.logger.info({ deleted, maxAgeMs: this.options.maxAgeMs }, 'expired objects deleted');
    return deleted;
  }
}
