/**
 * The one place that reads the environment. `loadConfig` parses it once, at boot, into a frozen, typed
 * config; a bad value stops the process with a message naming the variable and the rule it breaks.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { dataDirLayout } from './data-dir.js';
import { resourceNames } from './resources-names.js';

/** SQS allows long polls of at most 20 s (ReceiveMessage WaitTimeSeconds). */
export const SQS_MAX_WAIT_SECONDS = 20;
/** SQS returns and accepts at most 10 messages per ReceiveMessage / batch call. */
export const SQS_MAX_BATCH = 10;
/** SQS visibility timeouts range from 0 s to 12 hours. */
export const SQS_MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** The course's cap on app-tier instances (its accounts allow 20 EC2 instances, one of them the web tier). */
export const COURSE_MAX_WORKERS = 19;
/** The default "Unknown" threshold, measured by `npm run bench:accuracy` (see docs/accuracy.md). */
export const DEFAULT_MATCH_THRESHOLD = 0.45;
/** sharp's own default ceiling on decoded pixels (0x3FFF × 0x3FFF). */
export const SHARP_MAX_INPUT_PIXELS = 268_402_689;
/** `npm start`'s state, unless DATA_DIR says otherwise: `.facefleet/` in the project (git-ignored). */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../.facefleet/', import.meta.url));

const optionalInt = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .optional();
const int = (min: number, max: number, fallback: number) => optionalInt(min, max).default(fallback);

const envSchema = z
  .object({
    /** `local`: the embedded emulator with dummy credentials (default). `aws`: real AWS, default credential chain. */
    FACEFLEET_STACK: z.enum(['local', 'aws']).default('local'),
    /** AWS region of every client. */
    AWS_REGION: z.string().min(1).default('us-east-1'),
    /** S3/SQS endpoint; defaults to the embedded emulator locally and to AWS's own endpoints on `aws`. */
    AWS_ENDPOINT_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Port of the embedded S3+SQS emulator that `npm start` runs (fauxqs's own default is 4566). */
    EMULATOR_PORT: int(0, 65_535, 4566),
    /** Prefix of every bucket and queue name: `<prefix>-in-bucket`, `<prefix>-req-queue`, … (S3 naming rules). */
    RESOURCE_PREFIX: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/, 'must be 3-40 lowercase letters, digits or hyphens')
      .default('facefleet'),
    /** Interface and port of the web tier (the course contract is port 8000). */
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: int(0, 65_535, 8000),
    /** Largest upload accepted, in bytes; default 10 MiB. The emulator caps one PutObject at about 11 MiB. */
    MAX_UPLOAD_BYTES: int(1, 100 * 1024 * 1024, 10 * 1024 * 1024),
    /** Largest declared image size (width × height) accepted before decoding; default 40 megapixels. */
    MAX_IMAGE_PIXELS: int(1, SHARP_MAX_INPUT_PIXELS, 40_000_000),
    /**
     * How long uploaded images (the in-bucket's `uploads/`) and labels (the out-bucket) are kept, in days;
     * default 7; 0 keeps them forever. Enrollment photos and the gallery are never expired. On AWS provisioning
     * sets it as S3 lifecycle rules (whole days, rounded up); `npm start` sweeps the emulator with the same rule.
     */
    RETENTION_DAYS: z.coerce
      .number({ error: 'must be a number of days (0 keeps everything)' })
      .min(0, 'must be at least 0')
      .max(3650, 'must be at most 3650')
      .default(7),
    /** How long an HTTP request waits for its result before answering 504, in seconds; default 300. */
    RESULT_TIMEOUT_SECONDS: int(1, 3600, 300),
    /** How long a client may take to send a request's headers before it is answered 408, in seconds; default 20. */
    HEADERS_TIMEOUT_SECONDS: int(1, 600, 20),
    /**
     * How long a client may take to send a whole request, headers and body, before it is answered 408, in
     * seconds; default 120: a 10 MiB image over a 1 Mbit/s link takes 84 s. The wait for the result afterwards
     * is not counted (RESULT_TIMEOUT_SECONDS bounds it).
     */
    UPLOAD_TIMEOUT_SECONDS: int(1, 3600, 120),
    /** Open connections the web tier keeps; one more is answered 503 with Retry-After and closed; default 1024. */
    MAX_CONNECTIONS: int(1, 65_535, 1024),
    /**
     * Requests whose body is being received at once; one more is answered 503 with Retry-After before its body
     * is read; default 128 (the course workload sends 100 at once). With MAX_UPLOAD_BYTES this bounds the memory
     * that uploads in progress can hold.
     */
    MAX_CONCURRENT_UPLOADS: int(1, 10_000, 128),
    /**
     * Bytes that uploads arriving at once may hold in memory, each counted at its declared Content-Length (or
     * MAX_UPLOAD_BYTES when it declares none); one more is answered 503 with Retry-After before its body is
     * read; default 256 MiB.
     */
    MAX_UPLOAD_MEMORY_BYTES: int(1024 * 1024, 16 * 1024 * 1024 * 1024, 256 * 1024 * 1024),
    /** Long-poll loops on the response queue, each with its own SQS client; default 2. */
    RESPONSE_POLLERS: int(1, 16, 2),
    /** Visibility timeout given to the request queue, in seconds (SQS: 0 to 43200); default 30. */
    VISIBILITY_TIMEOUT_SECONDS: int(1, SQS_MAX_VISIBILITY_TIMEOUT_SECONDS, 30),
    /** Receives of one request before SQS moves it to the dead-letter queue (redrive maxReceiveCount); default 3. */
    MAX_RECEIVE_COUNT: int(1, 1000, 3),
    /** Messages a worker takes per receive (SQS: 1 to 10); default 10. */
    WORKER_BATCH_SIZE: int(1, SQS_MAX_BATCH, SQS_MAX_BATCH),
    /**
     * Long-poll wait of each receive, in seconds (SQS: 0 to 20); default 5. A stopping worker lets its open poll
     * end and answers what it brings (an aborted poll can still take a message, which would then sit hidden for
     * the visibility timeout), so this bounds how long scale-in takes; an idle worker costs one receive per wait.
     */
    WORKER_WAIT_SECONDS: int(0, SQS_MAX_WAIT_SECONDS, 5),
    /**
     * Cosine similarity below which a face is answered `Unknown`, −1 to 1, or `off` to always answer the
     * nearest enrolled person (the course's behaviour). The default gives a 0.1 % false-accept rate per
     * comparison on the LFW pairs; see docs/accuracy.md for how it was measured.
     */
    MATCH_THRESHOLD: z
      .union([
        z.literal('off'),
        z.coerce
          .number({ error: 'must be a number from -1 to 1, or off' })
          .min(-1, 'must be at least -1')
          .max(1, 'must be at most 1'),
      ])
      .default(DEFAULT_MATCH_THRESHOLD),
    /** Most faces of one image that are embedded and listed in a JSON answer (largest first); default 20. */
    MAX_FACES: int(1, 100, 20),
    /**
     * The key that enrollment (POST and DELETE under /people) requires, in an `X-API-Key` header or as
     * `Authorization: Bearer <key>`. At least 16 characters. Unset: the enrollment API refuses every change.
     */
    API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Whether GET /people needs the API key too; default true (the names of enrolled people are personal). */
    PEOPLE_READ_REQUIRES_KEY: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .default('true')
      .transform((v) => v === 'true'),
    /** How often a worker checks S3 for a new gallery, in seconds; default 5. */
    GALLERY_REFRESH_SECONDS: int(1, 3600, 5),
    /** How often the autoscaler reads the queue and the fleet and decides, in milliseconds; default 1000. */
    AUTOSCALER_POLL_MS: int(100, 60_000, 1000),
    /** Queued messages (visible + in flight) per worker the autoscaler aims for; default 4. */
    MESSAGES_PER_WORKER: int(1, 1000, 4),
    /** Fewest workers, even when idle; default 0 (scale to zero). */
    MIN_WORKERS: int(0, 1000, 0),
    /** Most workers; default 19 on AWS (the course's cap), one per core locally. */
    MAX_WORKERS: optionalInt(1, 1000),
    /** How long the request queue must stay empty before idle workers are stopped, in seconds; default 3. */
    SCALE_IN_IDLE_SECONDS: int(0, 3600, 3),
    /** `local`: workers are child processes; `ec2`: app-tier instances. Default: local locally, ec2 on AWS. */
    FLEET_DRIVER: z.enum(['local', 'ec2']).optional(),
    /**
     * Where `npm start` keeps its state, so that a restart (or a crash) loses nothing: the emulator's queues and
     * their messages (SQLite), every bucket's objects as plain files, and the local fleet's registry; default
     * `.facefleet/` in the project. `npm start -- --fresh` empties it. Two stacks need two directories.
     */
    DATA_DIR: z.string().min(1).optional(),
    /** Where the local fleet keeps one file per worker, so a restarted autoscaler finds its workers again. */
    FLEET_DIR: z.string().min(1).optional(),
    /**
     * Local fleet: a running worker that has given no liveness signal (every second) for this long, in
     * seconds, is killed and replaced: frozen, or its event loop blocked; default 15.
     */
    WORKER_LIVENESS_SECONDS: int(2, 3600, 15),
    /** Set by the local fleet on its workers: the process whose end makes them stop (npm start's). */
    FLEET_OWNER_PID: optionalInt(1, 2 ** 31 - 1),
    /** Interface and port of the autoscaler's status endpoint (GET /status); default 127.0.0.1:8001. */
    AUTOSCALER_HOST: z.string().min(1).default('127.0.0.1'),
    AUTOSCALER_PORT: int(0, 65_535, 8001),
    /** Where the web tier reads the autoscaler's status for its own GET /status; default the port above. */
    AUTOSCALER_STATUS_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** EC2 fleet: a launch template (id `lt-…` or name) for app-tier instances; or give the AMI and the rest. */
    APP_TIER_LAUNCH_TEMPLATE: z.string().min(1).optional(),
    /** EC2 fleet: the app-tier AMI (`ami-…`), when no launch template is given or to override its AMI. */
    APP_TIER_AMI_ID: z
      .string()
      .regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id like ami-0123456789abcdef0')
      .optional(),
    /** EC2 fleet: instance type; default t3.micro (or the launch template's). */
    APP_TIER_INSTANCE_TYPE: z.string().min(1).optional(),
    APP_TIER_SUBNET_ID: z.string().min(1).optional(),
    /** EC2 fleet: comma-separated security group ids. */
    APP_TIER_SECURITY_GROUP_IDS: z.string().min(1).optional(),
    /** EC2 fleet: the workers' IAM instance profile (name or ARN). */
    APP_TIER_INSTANCE_PROFILE: z.string().min(1).optional(),
    /** EC2 fleet: start and stop a pool of stopped instances instead of launching and terminating. */
    WARM_POOL: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .default('false')
      .transform((v) => v === 'true'),
    /** How long a stopping process may take to finish the work it holds, in seconds; default 30. */
    SHUTDOWN_GRACE_SECONDS: int(1, 3600, 30),
    /** Directory holding the ONNX models; default the project's `models/`. */
    MODEL_DIR: z
      .string()
      .min(1)
      .default(fileURLToPath(new URL('../../models/', import.meta.url))),
    /**
     * Port of a worker's own GET /healthz and GET /readyz (ready once the models are warm and the gallery is
     * read). Default 8002 on AWS, for load-balancer or fleet health checks; off locally, where many workers
     * share one machine, unless set (0 picks a free port).
     */
    WORKER_HEALTH_PORT: optionalInt(0, 65_535),
    /** Name of this worker in logs and results; default `<hostname>-<pid>`. */
    WORKER_ID: z.string().min(1).max(64).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `auto` prints pretty logs to a terminal and JSON lines otherwise. */
    LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  })
  .superRefine((e, ctx) => {
    const max = e.MAX_WORKERS ?? (e.FACEFLEET_STACK === 'local' ? availableParallelism() : COURSE_MAX_WORKERS);
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
    if (e.HEADERS_TIMEOUT_SECONDS > e.UPLOAD_TIMEOUT_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['HEADERS_TIMEOUT_SECONDS'],
        message: `must be at most UPLOAD_TIMEOUT_SECONDS (${e.UPLOAD_TIMEOUT_SECONDS}): the headers are part of the upload`,
      });
    }
  });

const SECRET_VARIABLES = new Set(['API_KEY']);

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
        const value = SECRET_VARIABLES.has(name) ? undefined : present[name];
        return `${name}${value === undefined ? '' : ` (got "${value}")`}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  const local = e.FACEFLEET_STACK === 'local';
  const endpoint = e.AWS_ENDPOINT_URL ?? (local ? `http://127.0.0.1:${e.EMULATOR_PORT}` : undefined);
  const dataDir = resolve(e.DATA_DIR ?? DEFAULT_DATA_DIR);
  return deepFreeze({
    stack: e.FACEFLEET_STACK,
    aws: {
      region: e.AWS_REGION,
      endpoint,
      /** The emulator accepts any credentials; real AWS uses the default provider chain. */
      useEmulatorCredentials: local,
    },
    emulator: { port: e.EMULATOR_PORT },
    /** `npm start`'s state (see data-dir.ts for what is where). */
    dataDir,
    resources: resourceNames(e.RESOURCE_PREFIX),
    /** The recognition engine's options, shared by workers, enrollment and the web tier's upload check. */
    recognition: { modelDir: e.MODEL_DIR, maxImagePixels: e.MAX_IMAGE_PIXELS },
    matching: {
      /** Undefined: always the nearest person. */
      threshold: e.MATCH_THRESHOLD === 'off' ? undefined : e.MATCH_THRESHOLD,
      maxFaces: e.MAX_FACES,
    },
    enrollment: { apiKey: e.API_KEY, readRequiresKey: e.PEOPLE_READ_REQUIRES_KEY },
    web: {
      host: e.HOST,
      port: e.PORT,
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      resultTimeoutSeconds: e.RESULT_TIMEOUT_SECONDS,
      headersTimeoutSeconds: e.HEADERS_TIMEOUT_SECONDS,
      uploadTimeoutSeconds: e.UPLOAD_TIMEOUT_SECONDS,
      maxConnections: e.MAX_CONNECTIONS,
      maxConcurrentUploads: e.MAX_CONCURRENT_UPLOADS,
      maxUploadMemoryBytes: e.MAX_UPLOAD_MEMORY_BYTES,
      responsePollers: e.RESPONSE_POLLERS,
    },
    retention: {
      /** Undefined: kept forever. */
      days: e.RETENTION_DAYS === 0 ? undefined : e.RETENTION_DAYS,
    },
    queue: { visibilityTimeoutSeconds: e.VISIBILITY_TIMEOUT_SECONDS, maxReceiveCount: e.MAX_RECEIVE_COUNT },
    worker: {
      id: e.WORKER_ID,
      batchSize: e.WORKER_BATCH_SIZE,
      waitTimeSeconds: e.WORKER_WAIT_SECONDS,
      galleryRefreshSeconds: e.GALLERY_REFRESH_SECONDS,
      healthPort: e.WORKER_HEALTH_PORT ?? (local ? undefined : 8002),
    },
    autoscaler: {
      pollIntervalMs: e.AUTOSCALER_POLL_MS,
      host: e.AUTOSCALER_HOST,
      port: e.AUTOSCALER_PORT,
      statusUrl: e.AUTOSCALER_STATUS_URL ?? `http://127.0.0.1:${e.AUTOSCALER_PORT}/status`,
      policy: {
        messagesPerWorker: e.MESSAGES_PER_WORKER,
        minWorkers: e.MIN_WORKERS,
        maxWorkers: e.MAX_WORKERS ?? (local ? availableParallelism() : COURSE_MAX_WORKERS),
        scaleInIdleMs: e.SCALE_IN_IDLE_SECONDS * 1000,
      },
    },
    fleet: {
      driver: e.FLEET_DRIVER ?? (local ? 'local' : 'ec2'),
      /** Local driver: one file per worker, in the stack's data directory, so two stacks never share workers. */
      dir: resolve(e.FLEET_DIR ?? dataDirLayout(dataDir).fleet),
      ownerPid: e.FLEET_OWNER_PID,
      livenessSeconds: e.WORKER_LIVENESS_SECONDS,
      ec2: {
        launchTemplate: e.APP_TIER_LAUNCH_TEMPLATE,
        amiId: e.APP_TIER_AMI_ID,
        instanceType: e.APP_TIER_INSTANCE_TYPE ?? (e.APP_TIER_LAUNCH_TEMPLATE ? undefined : 't3.micro'),
        subnetId: e.APP_TIER_SUBNET_ID,
        securityGroupIds: e.APP_TIER_SECURITY_GROUP_IDS?.split(',')
          .map((g) => g.trim())
          .filter(Boolean),
        instanceProfile: e.APP_TIER_INSTANCE_PROFILE,
        warmPool: e.WARM_POOL,
      },
    },
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
  });
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
 * own environment, which its config came from, with `overrides` on top, and without secrets (API_KEY): only
 * the web tier uses the key, so no other process holds it (`keepSecrets` for the web tier's own config).
 */
export function childEnvironment(
  overrides: Record<string, string>,
  { keepSecrets = false }: { keepSecrets?: boolean } = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...overrides };
  if (!keepSecrets) for (const name of SECRET_VARIABLES) delete env[name];
  return env;
}
