/**
 * A worker's part in its instance's life inside the app tier's Auto Scaling group:
 *
 * - **Scale-in protection.** While any worker of the instance holds messages, the instance is protected from
 *   scale-in (SetInstanceProtection on itself), and unprotected once all are idle: the group never picks a busy
 *   instance, and the autoscaler reads the flag as the instance's busy signal (asg-fleet.ts).
 * - **Draining on termination.** The group's termination lifecycle hook holds a terminating instance in
 *   Terminating:Wait. The instance metadata's target lifecycle state says `Terminated`: each worker stops taking
 *   messages and finishes what it holds, and the last one done completes the lifecycle action, so the instance
 *   goes once its messages are answered (or when the hook's timeout passes, if something hangs).
 *
 * An instance runs one worker process per vCPU; they share a directory (`/run/facefleet`, the unit's
 * RuntimeDirectory) in which each says what it holds and whether it has drained.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import type { Logger } from '../shared/logger.js';
import { doublingBackoff, PollLoop } from '../shared/poll-loop.js';

export interface InstanceLifecycleOptions {
  readonly autoscaling: AutoScalingClient;
  readonly groupName: string;
  readonly hookName: string;
  /** This worker's id, unique on the instance. */
  readonly workerId: string;
  /** The directory the instance's workers share. */
  readonly dir: string;
  /** The instance's id (instance metadata: `instance-id`). */
  readonly instanceId: () => Promise<string>;
  /** The group's target for this instance (instance metadata: `autoscaling/target-lifecycle-state`). */
  readonly targetLifecycleState: () => Promise<string | undefined>;
  /** Messages this worker holds now. */
  readonly holding: () => number;
  /** Stops taking messages and resolves once what this worker held is answered. */
  readonly drain: () => Promise<void>;
  /** How often the state is read and protection set, in milliseconds; default 1000. */
  readonly intervalMs?: number;
  readonly logger: Logger;
}

interface WorkerRecord {
  readonly holding: number;
  readonly drained: boolean;
}

export class InstanceLifecycle {
  private readonly loop: PollLoop;
  /** The protection this worker last set (or saw set); undefined before its first decision. */
  private protectedNow: boolean | undefined;
  private draining: Promise<void> | undefined;
  private drained = false;
  private completed = false;

  constructor(private readonly options: InstanceLifecycleOptions) {
    mkdirSync(options.dir, { recursive: true });
    const intervalMs = options.intervalMs ?? 1000;
    this.loop = new PollLoop({
      round: () => this.round(),
      intervalMs,
      backoffMs: doublingBackoff(intervalMs, 30_000),
      onError: (err, failures) => options.logger.warn({ err, failures }, 'instance lifecycle round failed; retrying'),
      abortRoundOnStop: false,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One round: say what this worker holds, protect or unprotect the instance, and drain when it is going. */
  async round(): Promise<void> {
    this.record({ holding: this.options.holding(), drained: this.drained });
    const workers = this.workers();
    const busy = workers.some((w) => w.holding > 0 && !w.drained);
    const target = await this.options.targetLifecycleState();
    if (target === 'Terminated') {
      await this.drainAndComplete();
      return;
    }
    if (busy !== this.protectedNow) await this.protect(busy);
  }

  private async protect(on: boolean): Promise<void> {
    const InstanceId = await this.options.instanceId();
    await this.options.autoscaling.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: this.options.groupName,
        InstanceIds: [InstanceId],
        ProtectedFromScaleIn: on,
      }),
    );
    this.protectedNow = on;
    this.options.logger.info(
      { instanceId: InstanceId, protectedFromScaleIn: on },
      on ? 'holding messages: instance protected from scale-in' : 'idle: instance no longer protected from scale-in',
    );
  }

  private async drainAndComplete(): Promise<void> {
    if (!this.draining) {
      this.options.logger.info('the instance is terminating: finishing what this worker holds, taking nothing more');
      this.draining = this.options.drain().then(() => {
        this.drained = true;
        this.record({ holding: 0, drained: true });
      });
    }
    await this.draining;
    if (this.completed || !this.workers().every((w) => w.drained)) return;
    const InstanceId = await this.options.instanceId();
    try {
      await this.options.autoscaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: this.options.groupName,
          LifecycleHookName: this.options.hookName,
          InstanceId,
          LifecycleActionResult: 'CONTINUE',
        }),
      );
      this.options.logger.info({ instanceId: InstanceId }, 'every worker drained: lifecycle action completed');
    } catch (err) {
      // Another worker of the instance completed it first.
      if ((err as Error).name !== 'ValidationError') throw err;
    }
    this.completed = true;
  }

  private record(r: WorkerRecord): void {
    const path = join(this.options.dir, `${this.options.workerId}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(r));
    renameSync(`${path}.tmp`, path);
  }

  private workers(): WorkerRecord[] {
    return readdirSync(this.options.dir)
      .filter((f) => f.endsWith('.json'))
      .flatMap((f) => {
        try {
          return [JSON.parse(readFileSync(join(this.options.dir, f), 'utf8')) as WorkerRecord];
        } catch {
          return [];
        }
      });
  }
}

/**
 * The instance metadata service (IMDSv2: a session token first, then the read), or undefined where there is no
 * answer within 2 s or the path does not exist (off EC2; `target-lifecycle-state` outside a group).
 */
export async function instanceMetadata(path: string): Promise<string | undefined> {
  const base = 'http://169.254.169.254/latest';
  try {
    const token = await fetch(`${base}/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '300' },
      signal: AbortSignal.timeout(2000),
    }).then((r) => (r.ok ? r.text() : undefined));
    if (!token) return undefined;
    const res = await fetch(`${base}/meta-data/${path}`, {
      headers: { 'X-aws-ec2-metadata-token': token },
      signal: AbortSignal.timeout(2000),
    });
    return res.ok ? (await res.text()).trim() : undefined;
  } catch {
    return undefined;
  }
}
