/**
 * A worker's part in its instance's life inside the app tier's Auto Scaling group:
 *
 * - **Scale-in protection.** While any worker of the instance holds messages, the instance is protected from
 *   scale-in (SetInstanceProtection on itself), and unprotected once all are idle: the group never picks a busy
 *   instance, and the autoscaler reads the flag as the instance's busy signal (asg-fleet.ts).
 * - **Draining when the instance leaves service.** The instance metadata's target lifecycle state says where the
 *   group is taking it: `Terminated`, or a warm pool's `Warmed:*`. The warm-pool case covers an instance
 *   returned to the pool on scale-in (ReuseOnScaleIn), which waits in Warmed:Pending:Wait under the same hook,
 *   and one launched into the pool, which is stopped without waiting for its boot to finish (User Guide, "Use
 *   lifecycle hooks with a warm pool"). Either way each worker stops taking messages and finishes what it holds.
 *   While they drain, one worker sends the hook a heartbeat every third of its timeout
 *   (RecordLifecycleActionHeartbeat), so a long video is not cut at the timeout and sent back to the queue.
 *   The last worker done completes the lifecycle action.
 *
 * An instance runs one worker process per vCPU; they share a directory (`/run/facefleet`, the unit's
 * RuntimeDirectory) in which each says what it holds and whether it has drained. Only one of them, the one
 * whose id sorts first, calls the group: SetInstanceProtection and the heartbeats, when the instance's state
 * changes. Before, every worker called it on each of its own busy/idle flips.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
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
  /**
   * The launch hook (deploy/auto-scaling-group.ts): the instance enters service, or the warm pool, once this is
   * completed, which one worker does when `ready` says the workers can work.
   */
  readonly launchHookName?: string;
  /** Whether this worker is ready (models loaded and warmed, the gallery read): the launch hook waits for it. */
  readonly ready?: () => boolean;
  /** The termination hook's heartbeat timeout, in seconds: a heartbeat goes every third of it while draining. */
  readonly hookTimeoutSeconds?: number;
  /** The clock, in milliseconds (a test's or a simulation's). */
  readonly now?: () => number;
  readonly logger: Logger;
}

interface WorkerRecord {
  readonly workerId?: string;
  readonly holding: number;
  readonly drained: boolean;
}

/** The target states that take an instance out of service (User Guide, "target lifecycle state through IMDS"). */
export function leavingService(target: string | undefined): boolean {
  return target === 'Terminated' || (target?.startsWith('Warmed') ?? false);
}

export class InstanceLifecycle {
  private readonly loop: PollLoop;
  /** The protection this worker last set (or saw set); undefined before its first decision. */
  private protectedNow: boolean | undefined;
  private draining: Promise<void> | undefined;
  private drained = false;
  private completed = false;
  private lastHeartbeat: number | undefined;
  private launched = false;

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
    this.record({ workerId: this.options.workerId, holding: this.options.holding(), drained: this.drained });
    const workers = this.workers();
    const busy = workers.some((w) => w.holding > 0 && !w.drained);
    const target = await this.options.targetLifecycleState();
    if (!this.launched && this.leads(workers) && (this.options.ready?.() ?? true)) await this.completeLaunch();
    if (leavingService(target)) {
      await this.drainAndComplete(target!);
      return;
    }
    // One call per change of the instance's state, from one worker (the one whose id sorts first).
    if (this.leads(workers) && busy !== this.protectedNow) await this.protect(busy);
  }

  /** This worker speaks for the instance: its id sorts first among the workers that said what they hold. */
  private leads(workers: readonly WorkerRecord[]): boolean {
    const ids = workers.flatMap((w) => (w.workerId ? [w.workerId] : [])).sort();
    return ids.length === 0 || ids[0] === this.options.workerId;
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

  private async drainAndComplete(target: string): Promise<void> {
    if (!this.draining) {
      this.options.logger.info(
        { target },
        'the instance is leaving service: finishing what this worker holds, taking nothing more',
      );
      this.draining = this.options.drain().then(() => {
        this.drained = true;
        this.record({ workerId: this.options.workerId, holding: 0, drained: true });
      });
    }
    // While this worker drains (a video may take minutes), the hook hears from the instance every third of its
    // timeout; so it does while the other workers finish.
    const timeout = this.options.hookTimeoutSeconds;
    const beating =
      timeout !== undefined && this.leads(this.workers())
        ? setInterval(
            () =>
              void this.heartbeat().catch((err: unknown) =>
                this.options.logger.warn({ err }, 'could not send the lifecycle hook a heartbeat'),
              ),
            (timeout * 1000) / 3,
          ).unref()
        : undefined;
    try {
      await this.draining;
    } finally {
      clearInterval(beating);
    }
    const workers = this.workers();
    if (!workers.every((w) => w.drained)) {
      if (this.leads(workers)) await this.heartbeat();
      return;
    }
    if (this.completed) return;
    // Another worker of the instance may have completed it first, or nothing waits (an instance launched into the
    // warm pool has no termination action): done. Any other ValidationError (a hook name that is wrong) is not.
    await this.complete(this.options.hookName, 'every worker drained: lifecycle action completed', noActiveAction);
    this.completed = true;
  }

  /** CompleteLifecycleAction (CONTINUE) on `hook` for this instance; `done` says which refusals mean done. */
  private async complete(hook: string, said: string, done: (err: unknown) => boolean): Promise<void> {
    const InstanceId = await this.options.instanceId();
    try {
      await this.options.autoscaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: this.options.groupName,
          LifecycleHookName: hook,
          InstanceId,
          LifecycleActionResult: 'CONTINUE',
        }),
      );
      this.options.logger.info({ instanceId: InstanceId }, said);
    } catch (err) {
      if (!done(err)) throw err;
    }
  }

  /**
   * Tells the launch hook the workers are ready: the instance then enters service (or the warm pool). Done once
   * per boot; an instance started from the pool boots again, and its new workers complete it again.
   */
  private async completeLaunch(): Promise<void> {
    if (!this.options.launchHookName) {
      this.launched = true;
      return;
    }
    // No launch waits: another worker completed it, or the group was provisioned before it had a launch hook
    // (then the instance is in service already, and provisioning again adds the hook).
    await this.complete(
      this.options.launchHookName,
      'workers ready: launch lifecycle action completed',
      (err) =>
        noActiveAction(err) ||
        ((err as Error).name === 'ValidationError' && /No Lifecycle Hook found/i.test((err as Error).message)),
    );
    this.launched = true;
  }

  /** Keeps the termination hook waiting while the workers drain: a heartbeat every third of its timeout. */
  private async heartbeat(): Promise<void> {
    const timeout = this.options.hookTimeoutSeconds;
    if (timeout === undefined) return;
    const now = (this.options.now ?? Date.now)();
    if (this.lastHeartbeat !== undefined && now - this.lastHeartbeat < (timeout * 1000) / 3) return;
    this.lastHeartbeat = now;
    try {
      await this.options.autoscaling.send(
        new RecordLifecycleActionHeartbeatCommand({
          AutoScalingGroupName: this.options.groupName,
          LifecycleHookName: this.options.hookName,
          InstanceId: await this.options.instanceId(),
        }),
      );
    } catch (err) {
      if (!noActiveAction(err)) throw err;
    }
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

/** CompleteLifecycleAction's and RecordLifecycleActionHeartbeat's answer when no action waits for the instance. */
function noActiveAction(err: unknown): boolean {
  const e = err as Error;
  return e.name === 'ValidationError' && /No active Lifecycle Action found/i.test(e.message);
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
