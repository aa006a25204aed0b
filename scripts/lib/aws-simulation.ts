/**
 * The course on AWS, replayed in accelerated time: requests on a queue, the real policy, controller and Auto
 * Scaling driver (src/autoscaler/), the real worker-side lifecycle (src/app-tier/instance-lifecycle.ts), and a
 * fake group that keeps AWS's timing (fake-auto-scaling-group.ts): instances boot in 30–60 s, a pooled one
 * starts in 15 s, EC2 learns of new instances a few seconds late, and termination waits for the hook.
 *
 * One simulated second is one controller round (AUTOSCALER_POLL_MS on AWS), one round of every instance's
 * lifecycle, and one second of work. Each InService instance runs `workersPerInstance` workers, each answering
 * one message in `secondsPerMessage`. Time only moves when the loop moves it, so an hour takes about a second.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { InstanceLifecycle } from '../../src/app-tier/instance-lifecycle.js';
import { AsgFleet } from '../../src/autoscaler/asg-fleet.js';
import { AutoscalerController } from '../../src/autoscaler/controller.js';
import type { PolicyOptions } from '../../src/autoscaler/policy.js';
import { FakeAutoScalingGroup } from './fake-auto-scaling-group.js';
import type { TimelineSample } from './timeline.js';

export interface Scenario {
  readonly name: string;
  /** Requests in all. */
  readonly requests: number;
  /** Requests in flight at once, as the course's generator sends them (100). */
  readonly concurrency: number;
  /** Instances kept stopped in the warm pool; 0: none. */
  readonly warmPool: number;
}

export interface SimulationOptions {
  readonly policy: PolicyOptions;
  /** The group's MaxSize: the course's cap, 19. */
  readonly cap: number;
  readonly launchSeconds: readonly [number, number];
  readonly warmStartSeconds: number;
  readonly secondsPerMessage: number;
  readonly workersPerInstance: number;
  readonly hookTimeoutSeconds: number;
  /** Longest simulated run, in seconds. */
  readonly maxSeconds: number;
  /** Seeds the launch times, so that a run is the same every time. */
  readonly seed: number;
  /** Where the instances' workers share their state (one folder per instance, as /run/facefleet). */
  readonly scratchDir: string;
}

export interface SimulationRun {
  readonly scenario: string;
  readonly requests: number;
  readonly warmPool: number;
  readonly cap: number;
  readonly peakInstances: number;
  /** The most instances InService at once, reached `secondsToPeak` after the first request. */
  readonly peakInService: number;
  /** The most desired capacity the group was ever set to, and the most the policy ever asked for. */
  readonly peakDesired: number;
  readonly peakPolicyDesired: number;
  readonly busyTerminated: number;
  readonly unanswered: number;
  readonly secondsToPeak: number;
  readonly secondsToLastAnswer: number;
  readonly secondsToZero: number | null;
  /** Instances in the warm pool at the end, against `warmPool`. */
  readonly poolAtEnd: number;
  readonly timeline: TimelineSample[];
}

interface Message {
  readonly id: number;
  doneAt?: number;
  instance?: string;
}

const GROUP = 'simulated-app-tier';
const HOOK = 'simulated-drain';
const LAUNCH_HOOK = 'simulated-launch';

/** A small seeded generator (mulberry32): the same launch times on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function simulate(scenario: Scenario, o: SimulationOptions): Promise<SimulationRun> {
  const logger = pino({ level: 'silent' });
  // A warm pool is filled before the course begins, as provisioning fills it (two minutes of the group's time).
  const start = scenario.warmPool > 0 ? -120 : 0;
  let clock = start * 1000;
  const now = () => clock;
  const rand = random(o.seed);
  const queue: Message[] = [];
  const inFlight = new Map<number, Message>();
  const holding = new Map<string, number>();
  let sent = 0;
  let answered = 0;
  const group = new FakeAutoScalingGroup({
    name: GROUP,
    maxSize: o.cap,
    now,
    launchSeconds: () => o.launchSeconds[0] + rand() * (o.launchSeconds[1] - o.launchSeconds[0]),
    warmStartSeconds: o.warmStartSeconds,
    hook: { name: HOOK, heartbeatTimeoutSeconds: o.hookTimeoutSeconds },
    launchHook: { name: LAUNCH_HOOK, heartbeatTimeoutSeconds: 900 },
    ...(scenario.warmPool > 0
      ? { warmPool: { minSize: scenario.warmPool, maxGroupPreparedCapacity: scenario.warmPool, reuseOnScaleIn: true } }
      : {}),
    isBusy: (id) => (holding.get(id) ?? 0) > 0,
  });
  const mocks = group.attach();
  const sqs = mockClient(SQSClient);
  sqs.on(GetQueueAttributesCommand).callsFake(() => ({
    Attributes: {
      ApproximateNumberOfMessages: String(queue.length),
      ApproximateNumberOfMessagesNotVisible: String(inFlight.size),
    },
  }));
  try {
    const fleet = new AsgFleet({
      autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
      ec2: new EC2Client({ region: 'us-east-1' }),
      groupName: GROUP,
      logger,
    });
    let peakPolicyDesired = 0;
    const controller = new AutoscalerController({
      sqs: new SQSClient({ region: 'us-east-1' }),
      requestQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/simulated-req-queue',
      fleet,
      policy: o.policy,
      pollIntervalMs: 1000,
      logger,
      now,
      observer: {
        decided: (d) => (peakPolicyDesired = Math.max(peakPolicyDesired, d.desired)),
        failed: () => undefined,
      },
    });
    // Each instance's worker side: the real lifecycle code, one per instance (its workers share one record).
    type Entry = {
      lifecycle: InstanceLifecycle;
      draining: boolean;
      drained?: () => void;
      round?: Promise<void>;
      /** The boot it belongs to: an instance started again from the pool runs new processes. */
      boot: number;
    };
    const lifecycles = new Map<string, Entry>();
    const lifecycleOf = (id: string, boot: number) => {
      let entry = lifecycles.get(id);
      if (entry?.boot !== boot) {
        const e: Entry = {
          boot,
          draining: false,
          lifecycle: undefined as unknown as InstanceLifecycle,
        };
        e.lifecycle = new InstanceLifecycle({
          autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
          groupName: GROUP,
          hookName: HOOK,
          hookTimeoutSeconds: o.hookTimeoutSeconds,
          launchHookName: LAUNCH_HOOK,
          ready: () => true,
          workerId: 'workers',
          dir: `${o.scratchDir}/${id}-${boot}`,
          instanceId: async () => id,
          targetLifecycleState: async () => group.targetLifecycleState(id),
          holding: () => holding.get(id) ?? 0,
          drain: () =>
            new Promise<void>((resolve) => {
              e.draining = true;
              if ((holding.get(id) ?? 0) === 0) resolve();
              else e.drained = resolve;
            }),
          now,
          logger,
        });
        lifecycles.set(id, e);
        entry = e;
      }
      return entry;
    };

    const timeline: TimelineSample[] = [];
    let peakInstances = 0;
    let secondsToPeak = 0;
    let peakDesired = 0;
    let lastAnswerAt = 0;
    let zeroAt: number | null = null;
    for (let second = start; second < o.maxSeconds; second++) {
      clock = second * 1000;
      group.advance();
      // The course's generator: at most `concurrency` requests in flight, until all are sent.
      while (second >= 0 && sent < scenario.requests && sent - answered < scenario.concurrency) {
        queue.push({ id: sent++ });
      }
      await controller.tick();
      peakDesired = Math.max(peakDesired, group.desired);
      // Work: each InService instance's free workers take messages and answer them in secondsPerMessage.
      let completed = 0;
      for (const m of [...inFlight.values()]) {
        if (m.doneAt !== undefined && m.doneAt <= clock) {
          inFlight.delete(m.id);
          holding.set(m.instance!, (holding.get(m.instance!) ?? 1) - 1);
          answered++;
          completed++;
          lastAnswerAt = clock;
        }
      }
      // Every instance whose boot has finished runs its workers: in service, or waiting on the hook while the
      // group takes it out (Terminating:Wait, Warmed:Pending:Wait), the boot of a scaled-in Pending one included.
      const running = [...group.instances.values()].filter((i) => clock >= i.readyAt && i.state !== 'Warmed:Stopped');
      for (const instance of running) {
        const entry = lifecycleOf(instance.id, instance.readyAt);
        const serving = instance.state === 'InService' && !entry.draining;
        if (serving) {
          const free = o.workersPerInstance - (holding.get(instance.id) ?? 0);
          // A worker answers a message per secondsPerMessage: a second holds several when they are short.
          const perSecond = Math.max(1, Math.floor(1 / o.secondsPerMessage)) * free;
          for (let n = 0; n < perSecond && queue.length > 0; n++) {
            const m = queue.shift()!;
            m.instance = instance.id;
            m.doneAt = clock + Math.max(o.secondsPerMessage, 1) * 1000 - 1;
            inFlight.set(m.id, m);
            holding.set(instance.id, (holding.get(instance.id) ?? 0) + 1);
          }
        }
        if ((holding.get(instance.id) ?? 0) === 0 && entry.drained) {
          entry.drained();
          entry.drained = undefined;
        }
        // The lifecycle's round: protection while busy, drain and complete when leaving (not awaited past the
        // drain, which the loop resolves when the instance's messages are answered).
        // One round at a time per instance, as its poll loop runs them.
        entry.round ??= entry.lifecycle
          .round()
          .catch(() => undefined)
          .finally(() => (entry.round = undefined));
      }
      // Let the rounds' calls to the group be answered before the next second.
      await new Promise((resolve) => setImmediate(resolve));
      const instances = group.inGroup().filter((i) => i.state === 'InService').length;
      if (instances > peakInstances) {
        peakInstances = instances;
        secondsToPeak = second;
      }
      if (second < 0) continue;
      timeline.push({
        t: second,
        visible: queue.length,
        inFlight: inFlight.size,
        workers: instances,
        completedPerSecond: completed,
      });
      const leaving = [...group.instances.values()].some((i) => i.target !== undefined);
      if (answered === scenario.requests && group.inGroup().length === 0 && !leaving) {
        zeroAt = second;
        break;
      }
    }
    // The group's last reconciliation: a pool that took scaled-in instances back keeps only its size.
    clock += 1000;
    group.advance();
    return {
      scenario: scenario.name,
      requests: scenario.requests,
      warmPool: scenario.warmPool,
      cap: o.cap,
      // Instances in the group at once, Pending included: what counts against the cap.
      peakInstances: group.peakInstances,
      peakInService: peakInstances,
      peakDesired,
      peakPolicyDesired,
      busyTerminated: group.busyTerminated,
      unanswered: scenario.requests - answered,
      secondsToPeak,
      secondsToLastAnswer: lastAnswerAt / 1000,
      secondsToZero: zeroAt,
      poolAtEnd: group.inPool().length,
      timeline,
    };
  } finally {
    mocks.autoscaling.restore();
    mocks.ec2.restore();
    sqs.restore();
  }
}
