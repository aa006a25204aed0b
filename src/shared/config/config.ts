/**
 * The one place that reads the environment. `loadConfig` parses it once, at boot, into a frozen, typed
 * config; a bad value stops the process with a message naming the variable and the rule it breaks. Each
 * variable is declared in settings.ts, in its place in the config; the rules between variables are here:
 * the checks across settings, and the defaults that depend on other settings.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { dataDirLayout } from './data-dir.js';
import {
  COURSE_MAX_WORKERS,
  environmentSchema,
  SECRET_SETTINGS,
  SETTINGS,
  settingValues,
  type ParsedSettings,
  type Reader,
  type SettingName,
} from './settings.js';

const envSchema = environmentSchema().superRefine((e, ctx) => {
  const max = maxWorkersOf(e);
  if (e.MIN_WORKERS > max) {
    ctx.addIssue({ code: 'custom', path: ['MIN_WORKERS'], message: `must be at most MAX_WORKERS (${max})` });
  }
  if (e.MAX_UPLOAD_MEMORY_BYTES < e.MAX_UPLOAD_BYTES) {
    ctx.addIssue({
      code: 'custom',
      path: ['MAX_UPLOAD_MEMORY_BYTES'],
      message: `must be at least MAX_UPLOAD_BYTES (${e.MAX_UPLOAD_BYTES}), or no upload of the largest size is ever taken`,
    });
  }
  if (e.HEARTBEAT_SECONDS !== undefined && e.HEARTBEAT_SECONDS >= e.VISIBILITY_TIMEOUT_SECONDS) {
    ctx.addIssue({
      code: 'custom',
      path: ['HEARTBEAT_SECONDS'],
      message: `must be less than VISIBILITY_TIMEOUT_SECONDS (${e.VISIBILITY_TIMEOUT_SECONDS}), or a held message becomes visible between two extensions`,
    });
  }
  if (e.DYNAMODB_PORT === undefined && e.EMULATOR_PORT === 65_535) {
    ctx.addIssue({
      code: 'custom',
      path: ['DYNAMODB_PORT'],
      message: 'must be set when EMULATOR_PORT is 65535 (its default is the port after the emulator’s)',
    });
  }
  if (e.REPLY_QUEUE_HEARTBEAT_SECONDS >= e.REPLY_QUEUE_IDLE_SECONDS) {
    ctx.addIssue({
      code: 'custom',
      path: ['REPLY_QUEUE_IDLE_SECONDS'],
      message: `must be more than REPLY_QUEUE_HEARTBEAT_SECONDS (${e.REPLY_QUEUE_HEARTBEAT_SECONDS}), or the reaper deletes the queues of live web processes`,
    });
  }
  if (e.REPLY_QUEUE === 'shared' && (e.WEB_PROCESSES > 1 || e.WEB_GROUP_MEMBER)) {
    const why = e.WEB_GROUP_MEMBER ? 'in a web group' : `with WEB_PROCESSES=${e.WEB_PROCESSES}`;
    ctx.addIssue({
      code: 'custom',
      path: ['REPLY_QUEUE'],
      message: `cannot be shared ${why}: processes polling one response queue take each other's results`,
    });
  }
  if (e.WEB_GROUP_MIN_SIZE > e.WEB_GROUP_MAX_SIZE) {
    ctx.addIssue({
      code: 'custom',
      path: ['WEB_GROUP_MIN_SIZE'],
      message: `must be at most WEB_GROUP_MAX_SIZE (${e.WEB_GROUP_MAX_SIZE})`,
    });
  }
  if (e.HEADERS_TIMEOUT_SECONDS > e.UPLOAD_TIMEOUT_SECONDS) {
    ctx.addIssue({
      code: 'custom',
      path: ['HEADERS_TIMEOUT_SECONDS'],
      message: `must be at most UPLOAD_TIMEOUT_SECONDS (${e.UPLOAD_TIMEOUT_SECONDS}): the headers are part of the upload`,
    });
  }
});

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Config = ReturnType<typeof loadConfig>;

/** Parses the environment (by default `process.env`) into the frozen config, or throws a `ConfigError`. */
export function loadConfig(env: Record<string, string | undefined> = process.env) {
  // Empty strings mean "unset", as in shell `FOO= npm start`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'configuration');
        // A secret is never echoed, not even a wrong one: error output ends up in logs.
        const value = SECRET_SETTINGS.has(name) ? undefined : present[name];
        return `${name}${value === undefined ? '' : ` (got "${value}")`}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  const v = settingValues(e);
  const local = v.stack === 'local';
  // Beside the emulator's port, so that stacks on other emulator ports (or on free ones) never share it.
  const dynamodbPort = v.dynamodb.port ?? (v.emulator.port === 0 ? 0 : v.emulator.port + 1);
  const layout = dataDirLayout(v.dataDir);
  // The values below are completed here because their defaults depend on other settings; every other value
  // is the setting's own, in the place settings.ts declares it.
  return deepFreeze({
    ...v,
    /** Every setting as parsed, defaults included: what a deployed instance's environment is rendered from. */
    settings: e,
    aws: {
      ...v.aws,
      endpoint: v.aws.endpoint ?? (local ? `http://127.0.0.1:${v.emulator.port}` : undefined),
      /** The emulator accepts any credentials; real AWS uses the default provider chain. */
      useEmulatorCredentials: local,
      /** The student records' DynamoDB: dynalite locally. */
      dynamodbEndpoint: v.aws.dynamodbEndpoint ?? (local ? `http://127.0.0.1:${dynamodbPort}` : undefined),
    },
    /** `npm start`'s DynamoDB-compatible server. */
    dynamodb: { port: dynamodbPort },
    matching: {
      ...v.matching,
      /** `auto`: the threshold rises with the collection's people (matchThresholdFor). */
      grows: e.MATCH_THRESHOLD === 'auto',
    },
    web: {
      ...v.web,
      host: v.web.host ?? (local ? '127.0.0.1' : '0.0.0.0'),
      responsePollers: v.web.responsePollers ?? (v.web.processes > 1 ? 1 : 2),
      /** Undefined locally: each process takes a free loopback port. */
      metricsPort: v.web.metricsPort ?? (local ? undefined : 8020),
    },
    worker: {
      ...v.worker,
      /** A third of the visibility timeout leaves two extensions' worth of slack for a slow SQS call. */
      heartbeatSeconds: v.worker.heartbeatSeconds ?? Math.max(1, Math.floor(v.queue.visibilityTimeoutSeconds / 3)),
      healthPort: v.worker.healthPort ?? (local ? undefined : 8002),
    },
    monitor: { ...v.monitor, dbPath: v.monitor.dbPath ?? layout.monitor },
    autoscaler: {
      ...v.autoscaler,
      /** Locally the reads are free: a request after a pause is seen within 200 ms. */
      idlePollIntervalMs:
        v.autoscaler.idlePollIntervalMs ??
        (local ? Math.min(200, v.autoscaler.pollIntervalMs) : v.autoscaler.pollIntervalMs),
      statusUrl: v.autoscaler.statusUrl ?? `http://127.0.0.1:${v.autoscaler.port}/status`,
      policy: { ...v.autoscaler.policy, maxWorkers: maxWorkersOf(e) },
    },
    fleet: {
      ...v.fleet,
      driver: v.fleet.driver ?? (local ? 'local' : 'ec2'),
      /** Local driver: one file per worker, in the stack's data directory, so two stacks never share workers. */
      dir: resolve(v.fleet.dir ?? layout.fleet),
      ec2: {
        ...v.fleet.ec2,
        instanceType: v.fleet.ec2.instanceType ?? (v.fleet.ec2.launchTemplate ? undefined : 't3.micro'),
      },
      /** The Auto Scaling group of the `asg` driver, and its termination lifecycle hook. */
      group: {
        name: v.worker.group ?? `${v.resources.prefix}-app-tier`,
        terminationHook: `${v.resources.prefix}-drain`,
        /** The launch hook: an instance enters service (or the warm pool) once its workers are ready. */
        launchHook: `${v.resources.prefix}-launch`,
        /**
         * The hook's heartbeat timeout: twice the shutdown grace, 30 s to 2 h. A draining instance's workers send
         * a heartbeat every third of it (instance-lifecycle.ts), so a video longer than this is not cut.
         */
        hookTimeoutSeconds: Math.min(7200, Math.max(30, v.shutdownGraceSeconds * 2)),
      },
    },
  });
}

/** Locally, a worker per core; on AWS, the course's cap. */
function maxWorkersOf(e: ParsedSettings): number {
  return e.MAX_WORKERS ?? (e.FACEFLEET_STACK === 'local' ? availableParallelism() : COURSE_MAX_WORKERS);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * The environment for a child process of ours (a local worker, the autoscaler, the emulator): this process's
 * own environment, which its config came from, with `overrides` on top, and without the secrets it does not
 * read: API_KEY is the web tier's alone, MONITOR_FORWARD_TOKEN the web tier's and the monitor's. `keepSecrets`:
 * `true` keeps them all (the web tier's own config), a reader keeps those it reads.
 */
export function childEnvironment(
  overrides: Record<string, string>,
  { keepSecrets = false }: { keepSecrets?: boolean | Reader } = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...overrides };
  if (keepSecrets === true) return env;
  for (const name of SECRET_SETTINGS) {
    const readers: readonly Reader[] = SETTINGS[name as SettingName].readBy;
    if (keepSecrets === false || !readers.includes(keepSecrets)) delete env[name];
  }
  return env;
}
