/**
 * The one place that reads the environment. `loadConfig` parses it once, at boot, into a frozen, typed
 * config; a bad value stops the process with a message naming the variable and the rule it breaks. Each
 * variable is declared in settings.ts; the rules between variables and the config's shape are here.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { dataDirLayout } from './data-dir.js';
import { resourceNames } from '../aws/resources-names.js';
import {
  COURSE_MAX_WORKERS,
  DEFAULT_DATA_DIR,
  DEFAULT_MATCH_THRESHOLD,
  environmentSchema,
  SECRET_SETTINGS,
} from './settings.js';

const envSchema = environmentSchema().superRefine((e, ctx) => {
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
  const local = e.FACEFLEET_STACK === 'local';
  const endpoint = e.AWS_ENDPOINT_URL ?? (local ? `http://127.0.0.1:${e.EMULATOR_PORT}` : undefined);
  const dataDir = resolve(e.DATA_DIR ?? DEFAULT_DATA_DIR);
  // Beside the emulator's port, so that stacks on other emulator ports (or on free ones) never share it.
  const dynamodbPort = e.DYNAMODB_PORT ?? (e.EMULATOR_PORT === 0 ? 0 : e.EMULATOR_PORT + 1);
  const dynamodbEndpoint = e.DYNAMODB_ENDPOINT_URL ?? (local ? `http://127.0.0.1:${dynamodbPort}` : undefined);
  return deepFreeze({
    stack: e.FACEFLEET_STACK,
    aws: {
      region: e.AWS_REGION,
      endpoint,
      /** The emulator accepts any credentials; real AWS uses the default provider chain. */
      useEmulatorCredentials: local,
      /** The student records' DynamoDB: dynalite locally. */
      dynamodbEndpoint,
    },
    /** `npm start`'s DynamoDB-compatible server. */
    dynamodb: { port: dynamodbPort },
    /** Classroom videos: their limits, how they are sampled, and the tools that read them. */
    video: {
      requireKey: e.VIDEOS_REQUIRE_KEY,
      maxBytes: e.VIDEO_MAX_BYTES,
      maxSeconds: e.VIDEO_MAX_SECONDS,
      maxDimension: e.VIDEO_MAX_DIMENSION,
      frameSeconds: e.VIDEO_FRAME_SECONDS,
      maxFrames: e.VIDEO_MAX_FRAMES,
      decodeTimeoutSeconds: e.VIDEO_DECODE_TIMEOUT_SECONDS,
      toolMemoryBytes: e.VIDEO_TOOL_MEMORY_BYTES,
      resultTimeoutSeconds: e.VIDEO_RESULT_TIMEOUT_SECONDS,
      ffmpegPath: e.FFMPEG_PATH,
      ffprobePath: e.FFPROBE_PATH,
    },
    emulator: { host: e.EMULATOR_HOST, port: e.EMULATOR_PORT },
    /** `npm start`'s state (see data-dir.ts for what is where). */
    dataDir,
    resources: resourceNames(e.RESOURCE_PREFIX),
    /** The recognition engine's options, shared by workers, enrollment and the web tier's upload check. */
    recognition: { modelDir: e.MODEL_DIR, maxImagePixels: e.MAX_IMAGE_PIXELS },
    matching: {
      /** The threshold for up to 1,000 people; undefined: off (always the nearest person). */
      threshold:
        e.MATCH_THRESHOLD === 'off'
          ? undefined
          : e.MATCH_THRESHOLD === 'auto'
            ? DEFAULT_MATCH_THRESHOLD
            : e.MATCH_THRESHOLD,
      /** `auto`: the threshold rises with the collection's people (matchThresholdFor). */
      grows: e.MATCH_THRESHOLD === 'auto',
      maxFaces: e.MAX_FACES,
    },
    enrollment: { apiKey: e.API_KEY, readRequiresKey: e.PEOPLE_READ_REQUIRES_KEY },
    web: {
      host: e.HOST ?? (local ? '127.0.0.1' : '0.0.0.0'),
      port: e.PORT,
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      resultTimeoutSeconds: e.RESULT_TIMEOUT_SECONDS,
      headersTimeoutSeconds: e.HEADERS_TIMEOUT_SECONDS,
      uploadTimeoutSeconds: e.UPLOAD_TIMEOUT_SECONDS,
      maxConnections: e.MAX_CONNECTIONS,
      maxConcurrentUploads: e.MAX_CONCURRENT_UPLOADS,
      maxUploadMemoryBytes: e.MAX_UPLOAD_MEMORY_BYTES,
      responsePollers: e.RESPONSE_POLLERS ?? (e.WEB_PROCESSES > 1 ? 1 : 2),
      processes: e.WEB_PROCESSES,
      /** Set in a process the web tier's supervisor started (web-processes.ts). */
      processIndex: e.WEB_PROCESS_INDEX,
      replyQueue: {
        mode: e.REPLY_QUEUE,
        heartbeatSeconds: e.REPLY_QUEUE_HEARTBEAT_SECONDS,
        idleSeconds: e.REPLY_QUEUE_IDLE_SECONDS,
      },
      /** One of the web group behind a load balancer (deploy/load-balancer.ts). */
      groupMember: e.WEB_GROUP_MEMBER,
      group: {
        minSize: e.WEB_GROUP_MIN_SIZE,
        maxSize: e.WEB_GROUP_MAX_SIZE,
        requestsPerTarget: e.WEB_GROUP_REQUESTS_PER_TARGET,
      },
      /** Undefined locally: each process takes a free loopback port. */
      metricsPort: e.WEB_METRICS_PORT ?? (local ? undefined : 8020),
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
      /** A third of the visibility timeout leaves two extensions' worth of slack for a slow SQS call. */
      /** The Auto Scaling group this worker's instance belongs to: protection and draining (instance-lifecycle.ts). */
      group: e.APP_TIER_GROUP,
      heartbeatSeconds: e.HEARTBEAT_SECONDS ?? Math.max(1, Math.floor(e.VISIBILITY_TIMEOUT_SECONDS / 3)),
      galleryRefreshSeconds: e.GALLERY_REFRESH_SECONDS,
      /** Started warm by the local fleet: ready, taking no messages until woken. */
      warm: e.WORKER_WARM,
      galleryMaxFacesInMemory: e.GALLERY_MAX_FACES_IN_MEMORY,
      galleryIndexMinFaces: e.GALLERY_INDEX_MIN_FACES,
      healthPort: e.WORKER_HEALTH_PORT ?? (local ? undefined : 8002),
    },
    monitor: {
      /** Where the web tier forwards /monitoring/ and clients report; undefined: nowhere. */
      url: e.MONITOR_URL,
      host: e.MONITOR_HOST,
      port: e.MONITOR_PORT,
      dbPath: e.MONITOR_DB ?? dataDirLayout(dataDir).monitor,
      retentionMs: e.MONITOR_RETENTION_HOURS * 3_600_000,
      maxReports: e.MONITOR_MAX_REPORTS,
      maxBatchesPerMinute: e.MONITOR_MAX_BATCHES_PER_MINUTE,
    },
    autoscaler: {
      pollIntervalMs: e.AUTOSCALER_POLL_MS,
      /** Locally the reads are free: a request after a pause is seen within 200 ms. */
      idlePollIntervalMs:
        e.AUTOSCALER_IDLE_POLL_MS ?? (local ? Math.min(200, e.AUTOSCALER_POLL_MS) : e.AUTOSCALER_POLL_MS),
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
      /** The local fleet's warm pool: workers ready but taking no messages until a launch wakes them. */
      warmWorkers: e.WARM_WORKERS,
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
      /** The Auto Scaling group of the `asg` driver, and its termination lifecycle hook. */
      group: {
        name: e.APP_TIER_GROUP ?? `${e.RESOURCE_PREFIX}-app-tier`,
        terminationHook: `${e.RESOURCE_PREFIX}-drain`,
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
  if (!keepSecrets) for (const name of SECRET_SETTINGS) delete env[name];
  return env;
}
