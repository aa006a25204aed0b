/**
 * Where a setting is declared: every environment variable facefleet reads, once, in the place of the typed
 * config where its value lands, with its type and range (a zod schema, default included), its unit, the
 * processes that read it, what it does, and whether it is written into a deployed instance's environment.
 * From this tree come the typed config and its environment schema (config.ts), the environments rendered for
 * EC2 instances (instance-environment.ts) and the reference table in docs/configuration.md
 * (`npm run docs:config`; a test fails when the document is stale).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
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
/** The monitoring server's port, unless MONITOR_PORT says otherwise (the web instance's units use it). */
export const DEFAULT_MONITOR_PORT = 8010;
/** `npm start`'s state, unless DATA_DIR says otherwise: `.facefleet/` in the project (git-ignored). */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../../.facefleet/', import.meta.url));
/** The ONNX models, unless MODEL_DIR says otherwise: `models/` in the project (fetched by `npm ci`). */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../../models/', import.meta.url));

/** The processes that read settings. `local`: `npm start` itself (the emulator, the data directory). */
export type Reader = 'web' | 'worker' | 'autoscaler' | 'monitor' | 'local' | 'tools';
/** The EC2 instances whose environment a setting is written into: app-tier workers, the web instance. */
export type Instance = 'worker' | 'web';

export interface SettingSpec<S extends z.ZodType = z.ZodType, V = z.output<S>> {
  /** The environment variable. */
  readonly env: string;
  /** Type, range and default; an `optional()` schema without default means "unset" has a meaning. */
  readonly schema: S;
  /** The config's value, where it is not the parsed one (milliseconds from seconds, a list from a string). */
  readonly as?: (value: z.output<S>) => V;
  /** What the value is counted in, for the reference ("seconds", "bytes"). */
  readonly unit?: string;
  readonly readBy: readonly Reader[];
  /** One or two sentences for people: what it does, and what its default is for. */
  readonly description: string;
  /** The default as the reference shows it, where it is not the schema's constant (it depends on others). */
  readonly defaultText?: string;
  /** A secret: never echoed in an error, never given to a process that does not need it. */
  readonly secret?: boolean;
  /**
   * How the setting reaches deployed instances; absent: it does not (a local matter, or set per instance).
   * The value written is the deploying machine's, as parsed (`String()` of it), unless `fixed`; a value left
   * unset whose default depends on other settings (HEARTBEAT_SECONDS) is left unset, and the instance derives
   * it from the same settings.
   */
  readonly deploy?: {
    readonly to: readonly Instance[];
    /** The same value on every instance, whatever the deploying machine's config says. */
    readonly fixed?: string;
  };
}

const optionalInt = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .optional();
const int = (min: number, max: number, fallback: number) => optionalInt(min, max).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true');
const port = (fallback: number) => int(0, 65_535, fallback);
const text = () => z.string().min(1);

const ALL: readonly Reader[] = ['web', 'worker', 'autoscaler', 'monitor', 'local', 'tools'];
const BOTH: readonly Instance[] = ['worker', 'web'];

function setting<const N extends string, S extends z.ZodType, V = z.output<S>>(
  env: N,
  spec: Omit<SettingSpec<S, V>, 'env'>,
): SettingSpec<S, V> & { readonly env: N } {
  return { env, ...spec };
}

/**
 * Every setting, in the place of the typed config where its value lands (`loadConfig` reads this tree; only
 * the values whose default depends on other settings are completed in config.ts).
 */
export const SETTING_TREE = {
  stack: setting('FACEFLEET_STACK', {
    schema: z.enum(['local', 'aws']).default('local'),
    readBy: ALL,
    description:
      '`local`: the embedded emulator with placeholder credentials. `aws`: real AWS, default credential chain (instance profile, SSO, profile)',
    deploy: { to: BOTH, fixed: 'aws' },
  }),
  aws: {
    region: setting('AWS_REGION', {
      schema: text().default('us-east-1'),
      readBy: ALL,
      description: 'AWS region of every client',
      deploy: { to: BOTH },
    }),
    endpoint: setting('AWS_ENDPOINT_URL', {
      schema: z.url({ protocol: /^https?$/ }).optional(),
      readBy: ALL,
      defaultText: 'the emulator locally, AWS on `aws`',
      description: 'S3/SQS endpoint: the embedded emulator locally, AWS’s own endpoints on `aws`',
    }),
    dynamodbEndpoint: setting('DYNAMODB_ENDPOINT_URL', {
      schema: z.url({ protocol: /^https?$/ }).optional(),
      readBy: ['worker', 'tools', 'local'],
      defaultText: 'dynalite locally, AWS on `aws`',
      description: 'DynamoDB endpoint of the student records table',
    }),
  },
  dynamodb: {
    port: setting('DYNAMODB_PORT', {
      schema: optionalInt(0, 65_535),
      readBy: ['local'],
      defaultText: '`EMULATOR_PORT` + 1 (4567), or a free one when `EMULATOR_PORT` is 0',
      description:
        'port of the DynamoDB-compatible server (dynalite) that `npm start` runs beside the emulator for the student records',
    }),
  },
  video: {
    requireKey: setting('VIDEOS_REQUIRE_KEY', {
      schema: bool(true),
      readBy: ['web'],
      description:
        'whether `POST /videos` needs the API key (`API_KEY`): its answer holds students’ records, which are personal',
      deploy: { to: ['web'] },
    }),
    maxBytes: setting('VIDEO_MAX_BYTES', {
      schema: int(1024 * 1024, 5 * 1024 ** 3, 512 * 1024 * 1024),
      unit: 'bytes',
      readBy: ['web', 'worker'],
      description:
        'largest classroom video accepted (`POST /videos`, or put under `videos/` in the in-bucket on AWS); larger ones get `413` before anything is stored',
      deploy: { to: BOTH },
    }),
    maxSeconds: setting('VIDEO_MAX_SECONDS', {
      schema: int(1, 86_400, 3 * 3600),
      unit: 'seconds',
      readBy: ['web', 'worker'],
      description: 'longest video accepted, as its container header says (a lecture of three hours)',
      deploy: { to: BOTH },
    }),
    maxDimension: setting('VIDEO_MAX_DIMENSION', {
      schema: int(16, 16_384, 3840),
      unit: 'pixels',
      readBy: ['web', 'worker'],
      description: 'longest side of a video’s picture accepted: 4K passes, 8K is refused',
      deploy: { to: BOTH },
    }),
    frameSeconds: setting('VIDEO_FRAME_SECONDS', {
      schema: z.coerce
        .number({ error: 'must be a number of seconds' })
        .min(0.1, 'must be at least 0.1')
        .max(3600, 'must be at most 3600')
        .default(1),
      unit: 'seconds',
      readBy: ['worker'],
      description:
        'seconds between two frames of a video looked at, from its first frame; wider for a video longer than `VIDEO_MAX_FRAMES` of them, so that the frames span it all',
      deploy: { to: ['worker'] },
    }),
    maxFrames: setting('VIDEO_MAX_FRAMES', {
      schema: int(1, 10_000, 300),
      unit: 'frames',
      readBy: ['worker'],
      description: 'most frames of one video looked at',
      deploy: { to: ['worker'] },
    }),
    decodeTimeoutSeconds: setting('VIDEO_DECODE_TIMEOUT_SECONDS', {
      schema: int(1, 3600, 300),
      unit: 'seconds',
      readBy: ['worker'],
      description: 'ffmpeg is killed, with its children, when decoding one video takes longer than this',
      deploy: { to: ['worker'] },
    }),
    toolMemoryBytes: setting('VIDEO_TOOL_MEMORY_BYTES', {
      schema: int(256 * 1024 * 1024, 64 * 1024 ** 3, 2 * 1024 ** 3),
      unit: 'bytes',
      readBy: ['web', 'worker'],
      description: 'address-space limit of each ffmpeg and ffprobe run (prlimit)',
      deploy: { to: BOTH },
    }),
    resultTimeoutSeconds: setting('VIDEO_RESULT_TIMEOUT_SECONDS', {
      schema: int(1, 3600, 900),
      unit: 'seconds',
      readBy: ['web'],
      description: 'how long `POST /videos` waits for its result before `504`',
      deploy: { to: ['web'] },
    }),
    ffmpegPath: setting('FFMPEG_PATH', {
      schema: text().optional(),
      readBy: ['worker'],
      defaultText: 'the system’s, else the npm build',
      description:
        'the ffmpeg that decodes videos; unset: `/usr/bin/ffmpeg` or `/usr/local/bin/ffmpeg` (maintained, with security fixes), else the old static build of `@ffmpeg-installer/ffmpeg`',
    }),
    ffprobePath: setting('FFPROBE_PATH', {
      schema: text().optional(),
      readBy: ['web', 'worker'],
      defaultText: 'the system’s, else the npm build',
      description: 'the ffprobe that reads video headers; found as `FFMPEG_PATH` is (`@ffprobe-installer/ffprobe`)',
    }),
  },
  emulator: {
    host: setting('EMULATOR_HOST', {
      schema: text().default('127.0.0.1'),
      readBy: ['local'],
      description:
        'interface the embedded emulator listens on: loopback, unless tiers on other hosts or network namespaces must reach it (the network-namespace test)',
    }),
    port: setting('EMULATOR_PORT', {
      schema: port(4566),
      readBy: ALL,
      description: 'port of the embedded S3+SQS emulator that `npm start` runs (fauxqs’s own default)',
    }),
  },
  dataDir: setting('DATA_DIR', {
    schema: text().optional(),
    readBy: ['local', 'autoscaler', 'worker', 'monitor'],
    defaultText: '`.facefleet/`',
    description:
      '`npm start`’s state, so that a restart (or a crash) loses nothing: the emulator’s queues and messages (`sqs/fauxqs.db`, SQLite), every object as a plain file (`s3/buckets/<bucket>/objects/<key>.data`, its metadata beside it), the fleet registry (`fleet/`), the monitor’s reports (`monitor.sqlite`), objects a crash left torn (`damaged/`); one stack at a time per directory, `npm start -- --fresh` empties it',
    as: (dir) => resolve(dir ?? DEFAULT_DATA_DIR),
  }),
  resources: setting('RESOURCE_PREFIX', {
    schema: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/, 'must be 3-40 lowercase letters, digits or hyphens')
      .default('facefleet'),
    readBy: ALL,
    description:
      'prefix of every bucket and queue: `<prefix>-in-bucket`, `-out-bucket`, `-gallery-bucket`, `-req-queue`, `-resp-queue`, `-req-dlq`, `-video-queue` (S3 events for videos), `-students` (DynamoDB) (S3 naming rules)',
    deploy: { to: BOTH },
    as: resourceNames,
  }),
  recognition: {
    modelDir: setting('MODEL_DIR', {
      schema: text().default(DEFAULT_MODEL_DIR),
      readBy: ['worker', 'tools'],
      defaultText: '`models/`',
      description: 'where the ONNX models are (`npm ci` fetches them there)',
    }),
    maxImagePixels: setting('MAX_IMAGE_PIXELS', {
      schema: int(1, SHARP_MAX_INPUT_PIXELS, 40_000_000),
      unit: 'pixels',
      readBy: ['web', 'worker', 'tools'],
      description: 'largest declared width × height accepted, checked before decoding (40 megapixels)',
      deploy: { to: BOTH },
    }),
  },
  matching: {
    threshold: setting('MATCH_THRESHOLD', {
      schema: z
        .union([
          z.literal('off'),
          z.literal('auto'),
          z.coerce
            .number({ error: 'must be a number from -1 to 1, auto or off' })
            .min(-1, 'must be at least -1')
            .max(1, 'must be at most 1'),
        ])
        .default('auto'),
      unit: 'cosine similarity',
      readBy: ['worker', 'tools'],
      description:
        'similarity below which a face is `Unknown` (−1 to 1), `off` for always the nearest person (the course’s behaviour), or `auto`: 0.45 up to 1,000 people in the collection, then 0.02 higher for every tenfold more, so that strangers are not taken for someone more often as a collection grows (docs/accuracy.md)',
      deploy: {
        to: BOTH,
      },
      as: (t) => (t === 'off' ? undefined : t === 'auto' ? DEFAULT_MATCH_THRESHOLD : t),
    }),
    maxFaces: setting('MAX_FACES', {
      schema: int(1, 100, 20),
      unit: 'faces',
      readBy: ['worker'],
      description:
        'most faces of one image embedded and listed in a JSON answer (largest first); `facesFound` counts them all',
      deploy: { to: BOTH },
    }),
  },
  enrollment: {
    apiKey: setting('API_KEY', {
      schema: z.string().min(16, 'must be at least 16 characters').optional(),
      readBy: ['web'],
      secret: true,
      description:
        'the enrollment API’s key (16+ characters), in an `X-API-Key` header or as `Authorization: Bearer <key>`; unset, the API refuses every change. Never commit it',
    }),
    readRequiresKey: setting('PEOPLE_READ_REQUIRES_KEY', {
      schema: bool(true),
      readBy: ['web'],
      description: 'whether `GET /people` needs the key too (the names of enrolled people are personal)',
      deploy: { to: ['web'] },
    }),
  },
  web: {
    host: setting('HOST', {
      schema: text().optional(),
      readBy: ['web'],
      description:
        'interface the web tier listens on; default: `127.0.0.1` locally (like every other part of `npm start`: set `0.0.0.0` to be reached from other machines), `0.0.0.0` on AWS (the load balancer and the course client reach it)',
    }),
    port: setting('PORT', {
      schema: port(8000),
      readBy: ['web'],
      description: 'port of the web tier (the course contract is 8000)',
    }),
    maxUploadBytes: setting('MAX_UPLOAD_BYTES', {
      schema: int(1, 100 * 1024 * 1024, 10 * 1024 * 1024),
      unit: 'bytes',
      readBy: ['web'],
      description: 'largest upload accepted (10 MiB; the emulator caps one object at about 11 MiB)',
      deploy: { to: ['web'] },
    }),
    resultTimeoutSeconds: setting('RESULT_TIMEOUT_SECONDS', {
      schema: int(1, 3600, 300),
      unit: 'seconds',
      readBy: ['web'],
      description: 'how long a request waits for its result before `504`',
      deploy: { to: ['web'] },
    }),
    headersTimeoutSeconds: setting('HEADERS_TIMEOUT_SECONDS', {
      schema: int(1, 600, 20),
      unit: 'seconds',
      readBy: ['web'],
      description:
        'how long a client may take to send its request headers before `408` (at most `UPLOAD_TIMEOUT_SECONDS`)',
      deploy: { to: ['web'] },
    }),
    uploadTimeoutSeconds: setting('UPLOAD_TIMEOUT_SECONDS', {
      schema: int(1, 3600, 120),
      unit: 'seconds',
      readBy: ['web'],
      description:
        'how long a client may take to send a whole request, headers and body, before `408` (10 MiB at 1 Mbit/s takes 84 s); the wait for the result is not counted',
      deploy: { to: ['web'] },
    }),
    maxConnections: setting('MAX_CONNECTIONS', {
      schema: int(1, 65_535, 1024),
      readBy: ['web'],
      description: 'open connections the web tier keeps; one more is answered `503` with `Retry-After` and closed',
      deploy: { to: ['web'] },
    }),
    maxConcurrentUploads: setting('MAX_CONCURRENT_UPLOADS', {
      schema: int(1, 10_000, 128),
      readBy: ['web'],
      description:
        'request bodies being received at once (the course workload sends 100); one more is answered `503` with `Retry-After` before its body is read',
      deploy: { to: ['web'] },
    }),
    maxUploadMemoryBytes: setting('MAX_UPLOAD_MEMORY_BYTES', {
      schema: int(1024 * 1024, 16 * 1024 * 1024 * 1024, 256 * 1024 * 1024),
      unit: 'bytes',
      readBy: ['web'],
      description:
        'bytes those bodies may hold, each counted at its declared length (256 MiB: 25 uploads of 10 MiB, or thousands of course images); at least `MAX_UPLOAD_BYTES`',
      deploy: { to: ['web'] },
    }),
    responsePollers: setting('RESPONSE_POLLERS', {
      schema: optionalInt(1, 16),
      readBy: ['web'],
      defaultText: '2 with one web process; 1 each with several',
      description:
        'long-poll loops of each web process on its reply queue, each with its own SQS client (with two processes, one each spent 12 % less CPU per request than two: docs/benchmarks.md)',
      deploy: { to: ['web'] },
    }),
    processes: setting('WEB_PROCESSES', {
      schema: int(1, 64, 1),
      unit: 'processes',
      readBy: ['web', 'local'],
      description:
        'web-tier processes on this machine, all on `PORT` (the kernel spreads connections: `SO_REUSEPORT`); a dead one is started again. More than one: each receives its results on a reply queue of its own (`REPLY_QUEUE`)',
      deploy: { to: ['web'] },
    }),
    processIndex: setting('WEB_PROCESS_INDEX', {
      schema: optionalInt(1, 64),
      readBy: ['web'],
      description:
        'which of the `WEB_PROCESSES` this one is: set by the web tier’s supervisor for each process it starts; not for people to set',
    }),
    replyQueue: {
      mode: setting('REPLY_QUEUE', {
        schema: z.enum(['auto', 'shared', 'own']).default('auto'),
        readBy: ['web', 'local'],
        description:
          'where a web process receives its results: `shared`, the canonical `<prefix>-resp-queue` (the course’s layout; one web process in all); `own`, a queue of its own, `<prefix>-resp-w<n>-<random>`, created at start and deleted at a clean stop (any number of processes and instances); `auto`: `shared` with one web process, `own` with more, or in a web group behind a load balancer',
        deploy: { to: ['web'] },
      }),
      heartbeatSeconds: setting('REPLY_QUEUE_HEARTBEAT_SECONDS', {
        schema: int(1, 3600, 30),
        unit: 'seconds',
        readBy: ['web'],
        description:
          'how often a web process tags its own reply queue with a sign of life (SQS allows some 5 tagging calls a second per account: 30 s leaves room for 150 processes)',
        deploy: { to: ['web'] },
      }),
      idleSeconds: setting('REPLY_QUEUE_IDLE_SECONDS', {
        schema: int(2, 86_400, 120),
        unit: 'seconds',
        readBy: ['web'],
        description:
          'a reply queue whose last sign of life is older than this is deleted by the reaper that every web process runs every half of this; a process killed outright leaves its queue at most 1.5 times this. More than `REPLY_QUEUE_HEARTBEAT_SECONDS`',
        deploy: { to: ['web'] },
      }),
    },
    groupMember: setting('WEB_GROUP_MEMBER', {
      schema: bool(false),
      readBy: ['web'],
      description:
        'this web instance is one of the web group behind the load balancer (`npm run aws:provision -- --web-group`): it receives its results on a reply queue of its own, and reads the autoscaler’s status and forwards `/monitoring/` to the web instance, found by its tag; set by provisioning',
    }),
    group: {
      minSize: setting('WEB_GROUP_MIN_SIZE', {
        schema: int(1, 100, 2),
        unit: 'instances',
        readBy: ['tools'],
        description: 'the web group’s least instances (`--web-group`): two, one in each of two availability zones',
      }),
      maxSize: setting('WEB_GROUP_MAX_SIZE', {
        schema: int(1, 100, 4),
        unit: 'instances',
        readBy: ['tools'],
        description: 'the web group’s most instances (`--web-group`); at least `WEB_GROUP_MIN_SIZE`',
      }),
      requestsPerTarget: setting('WEB_GROUP_REQUESTS_PER_TARGET', {
        schema: int(60, 10_000_000, 9000),
        unit: 'requests a minute',
        readBy: ['tools'],
        description:
          'the web group’s target-tracking policy: the load balancer’s requests a minute per web instance that the group keeps to (ALBRequestCountPerTarget); 9000 (150/s) is under 40 % of what a 2-vCPU instance with two web processes answered here (390/s, docs/benchmarks.md), room for TLS to AWS’s endpoints',
      }),
    },
    metricsPort: setting('WEB_METRICS_PORT', {
      schema: optionalInt(0, 65_535),
      readBy: ['web'],
      defaultText: '`8020` on AWS; locally a free loopback port per process',
      description:
        'with more than one web process, process n also answers `GET /metrics` (its own Prometheus metrics) on this port + n − 1, since `PORT` reaches any one of them; `GET /status` lists each one’s address',
      deploy: { to: ['web'] },
    }),
  },
  retention: {
    days: setting('RETENTION_DAYS', {
      schema: z.coerce
        .number({ error: 'must be a number of days (0 keeps everything)' })
        .min(0, 'must be at least 0')
        .max(3650, 'must be at most 3650')
        .default(7),
      unit: 'days',
      readBy: ['local', 'tools'],
      description:
        'how long uploads (`uploads/` in the in-bucket) and labels (the out-bucket) are kept; `0` keeps them. Enrollment photos and the gallery never expire. S3 lifecycle rules on AWS (whole days, rounded up, set by provisioning), an hourly sweep of the emulator under `npm start`',
      as: (days) => (days === 0 ? undefined : days),
    }),
  },
  queue: {
    visibilityTimeoutSeconds: setting('VISIBILITY_TIMEOUT_SECONDS', {
      schema: int(1, SQS_MAX_VISIBILITY_TIMEOUT_SECONDS, 30),
      unit: 'seconds',
      readBy: ['web', 'worker', 'local', 'tools'],
      description: 'visibility timeout of the request queue (SQS: 0–43200)',
      deploy: { to: BOTH },
    }),
    maxReceiveCount: setting('MAX_RECEIVE_COUNT', {
      schema: int(1, 1000, 3),
      readBy: ['web', 'worker', 'local', 'tools'],
      description:
        'receives of one request before it moves to the dead-letter queue (redrive maxReceiveCount); a worker answers with an error on the last',
      deploy: { to: BOTH },
    }),
  },
  worker: {
    id: setting('WORKER_ID', {
      schema: z.string().min(1).max(64).optional(),
      readBy: ['worker'],
      defaultText: '`<hostname>-<pid>`',
      description: 'name of the worker in logs and results',
    }),
    batchSize: setting('WORKER_BATCH_SIZE', {
      schema: int(1, SQS_MAX_BATCH, SQS_MAX_BATCH),
      unit: 'messages',
      readBy: ['worker'],
      description: 'messages a worker takes per receive (SQS: 1–10)',
      deploy: { to: BOTH },
    }),
    waitTimeSeconds: setting('WORKER_WAIT_SECONDS', {
      schema: int(0, SQS_MAX_WAIT_SECONDS, 5),
      unit: 'seconds',
      readBy: ['worker'],
      // A stopping worker lets its open poll end and answers what it brings (an aborted poll can still take a
      // message, which would then sit hidden for the visibility timeout).
      description:
        'long-poll wait of each receive (SQS: 0–20); a stopping worker lets its poll end first, so this bounds scale-in; an idle worker costs one receive per wait',
      deploy: { to: BOTH },
    }),
    group: setting('APP_TIER_GROUP', {
      schema: text().optional(),
      readBy: ['autoscaler', 'worker'],
      defaultText: '`<RESOURCE_PREFIX>-app-tier`',
      description:
        'the app tier’s Auto Scaling group (FLEET_DRIVER=asg): the autoscaler sets its desired capacity; its workers protect their instance from scale-in while they hold messages and complete its termination lifecycle action once drained',
      deploy: { to: BOTH },
    }),
    heartbeatSeconds: setting('HEARTBEAT_SECONDS', {
      schema: optionalInt(1, SQS_MAX_VISIBILITY_TIMEOUT_SECONDS - 1),
      unit: 'seconds',
      readBy: ['worker'],
      defaultText: 'a third of `VISIBILITY_TIMEOUT_SECONDS`',
      description:
        'how often a worker extends the visibility of the messages it still holds, each time to `VISIBILITY_TIMEOUT_SECONDS` from then, so that a batch slower than the timeout is not handed to another worker; less than `VISIBILITY_TIMEOUT_SECONDS`',
      deploy: { to: ['worker'] },
    }),
    galleryRefreshSeconds: setting('GALLERY_REFRESH_SECONDS', {
      schema: int(1, 3600, 5),
      unit: 'seconds',
      readBy: ['worker', 'tools'],
      description: 'how often a worker looks for a new gallery in S3',
      deploy: { to: BOTH },
    }),
    warm: setting('WORKER_WARM', {
      schema: bool(false),
      readBy: ['worker'],
      description:
        'local fleet: this worker is started warm, taking no messages until the fleet wakes it; set by the fleet, not for people to set',
    }),
    galleryMaxFacesInMemory: setting('GALLERY_MAX_FACES_IN_MEMORY', {
      schema: int(1_000, 100_000_000, 1_500_000),
      unit: 'faces',
      readBy: ['worker'],
      description:
        'faces a worker keeps in memory over every collection it has served; past it the least recently used collection is dropped (and read again when asked for). About 1.1 KiB a face once indexed (measured at a million): the default fits a 2 GiB instance (docs/collections.md)',
      deploy: { to: ['worker'] },
    }),
    galleryIndexMinFaces: setting('GALLERY_INDEX_MIN_FACES', {
      schema: int(0, 100_000_000, 2_000),
      unit: 'faces',
      readBy: ['worker', 'tools'],
      description:
        'from this many faces on, a collection is searched with an approximate nearest-neighbour index (usearch HNSW) instead of comparing every face; below, the exact scan is as fast (measured by `npm run bench:gallery`)',
      deploy: { to: ['worker'] },
    }),
    healthPort: setting('WORKER_HEALTH_PORT', {
      schema: optionalInt(0, 65_535),
      readBy: ['worker'],
      defaultText: '`8002` on AWS; locally a free loopback port per worker',
      description:
        'a worker’s `GET /healthz`, `/readyz` (ready once its models are warm and the gallery is read) and `/metrics` (Prometheus); locally each worker of the fleet takes a free loopback port (the autoscaler’s `GET /targets` lists them); the app-tier unit sets 8001 + n for worker n',
    }),
  },
  monitor: {
    url: setting('MONITOR_URL', {
      schema: z.url({ protocol: /^https?$/ }).optional(),
      readBy: ['web', 'tools'],
      defaultText: 'the monitor `npm start` runs; unset on AWS',
      description:
        'the monitoring server (`npm run monitor`) that the web tier’s `/monitoring/` forwards to, and the workload generator reports to; unset: `/monitoring/` answers 503',
    }),
    host: setting('MONITOR_HOST', {
      schema: text().default('127.0.0.1'),
      readBy: ['monitor'],
      description: 'interface the monitoring server listens on',
    }),
    port: setting('MONITOR_PORT', {
      schema: port(DEFAULT_MONITOR_PORT),
      readBy: ['monitor', 'local'],
      description: 'port of the monitoring server (0 picks a free one)',
    }),
    dbPath: setting('MONITOR_DB', {
      schema: text().optional(),
      readBy: ['monitor'],
      defaultText: '`DATA_DIR/monitor.sqlite`',
      description: 'the SQLite file of the monitoring server’s reports',
    }),
    retentionMs: setting('MONITOR_RETENTION_HOURS', {
      schema: int(1, 24 * 366, 168),
      unit: 'hours',
      readBy: ['monitor'],
      description: 'reports older than this are deleted (a week)',
      as: (hours) => hours * 3_600_000,
    }),
    maxReports: setting('MONITOR_MAX_REPORTS', {
      schema: int(1000, 100_000_000, 1_000_000),
      unit: 'reports',
      readBy: ['monitor'],
      description: 'most reports kept, the oldest deleted first (a million is about 250 MB)',
    }),
    maxBatchesPerMinute: setting('MONITOR_MAX_BATCHES_PER_MINUTE', {
      schema: int(1, 1_000_000, 600),
      unit: 'batches per minute',
      readBy: ['monitor'],
      description:
        'batches of reports one client (IP address) may post per minute; more are refused with 429 (at most 500 reports a batch)',
    }),
    maxReportsPerMinute: setting('MONITOR_MAX_REPORTS_PER_MINUTE', {
      schema: int(1, 10_000_000, 6000),
      unit: 'reports per minute',
      readBy: ['monitor'],
      description:
        'reports one client (IP address) may store per minute, whatever its batches hold; a batch past it is refused with 429. 6000 is 100 answers a second, more than the course workload reports; no one client can fill the newest rows a query reads (200,000) within a day’s window',
    }),
    forwardToken: setting('MONITOR_FORWARD_TOKEN', {
      schema: z.string().min(16, 'must be at least 16 characters').optional(),
      readBy: ['web', 'monitor'],
      secret: true,
      defaultText: 'a new one each `npm start`; on AWS, one the web instance makes at boot',
      description:
        'the secret the web tier shows the monitor when it forwards reports with its client’s address; the monitor believes a forwarded address only with it, and otherwise counts the reports against the address that connected',
    }),
  },
  autoscaler: {
    pollIntervalMs: setting('AUTOSCALER_POLL_MS', {
      schema: int(100, 60_000, 1000),
      unit: 'milliseconds',
      readBy: ['autoscaler'],
      description: 'time between scaling decisions (each reads the queue and the fleet)',
      deploy: { to: ['web'] },
    }),
    idlePollIntervalMs: setting('AUTOSCALER_IDLE_POLL_MS', {
      schema: optionalInt(50, 60_000),
      unit: 'milliseconds',
      readBy: ['autoscaler'],
      defaultText: '200 locally (at most `AUTOSCALER_POLL_MS`); `AUTOSCALER_POLL_MS` on AWS',
      description:
        'time between scaling decisions while no worker runs or starts: locally, a request after a pause wakes a warm worker within it (on AWS each decision is two billed SQS reads, and an instance takes seconds to start anyway)',
      deploy: { to: ['web'] },
    }),
    host: setting('AUTOSCALER_HOST', {
      schema: text().default('127.0.0.1'),
      readBy: ['autoscaler'],
      description: 'interface of the autoscaler’s status endpoint (`GET /status`)',
    }),
    port: setting('AUTOSCALER_PORT', {
      schema: port(8001),
      readBy: ['autoscaler', 'web'],
      description: 'port of the autoscaler’s status endpoint',
    }),
    statusUrl: setting('AUTOSCALER_STATUS_URL', {
      schema: z.url({ protocol: /^https?$/ }).optional(),
      readBy: ['web'],
      defaultText: '`http://127.0.0.1:<AUTOSCALER_PORT>/status`',
      description: 'where the web tier reads the autoscaler’s status for its own `GET /status`',
    }),
    policy: {
      messagesPerWorker: setting('MESSAGES_PER_WORKER', {
        schema: int(1, 1000, 4),
        unit: 'messages',
        readBy: ['autoscaler'],
        description: 'queued messages (visible + in flight) per worker the autoscaler aims for',
        deploy: { to: ['web'] },
      }),
      minWorkers: setting('MIN_WORKERS', {
        schema: int(0, 1000, 0),
        unit: 'workers',
        readBy: ['autoscaler'],
        description: 'fewest workers, even when idle (0: scale to zero); at most `MAX_WORKERS`',
        deploy: { to: ['web'] },
      }),
      maxWorkers: setting('MAX_WORKERS', {
        schema: optionalInt(1, 1000),
        unit: 'workers',
        readBy: ['autoscaler'],
        defaultText: 'cores locally, `19` on AWS',
        description:
          'most workers; every worker in any state counts against it (the course allows 19 app-tier instances)',
        deploy: { to: ['web'] },
      }),
      scaleInIdleMs: setting('SCALE_IN_IDLE_SECONDS', {
        schema: int(0, 3600, 3),
        unit: 'seconds',
        readBy: ['autoscaler'],
        description:
          'how long the request queue must stay empty, and no request arrive, before idle workers are stopped: while requests keep arriving (a trickle), one worker stays',
        deploy: { to: ['web'] },
        as: (seconds) => seconds * 1000,
      }),
    },
  },
  fleet: {
    driver: setting('FLEET_DRIVER', {
      schema: z.enum(['local', 'ec2', 'asg']).optional(),
      readBy: ['autoscaler'],
      defaultText: '`local` locally, `ec2` on AWS',
      description:
        '`local`: workers are child processes; `ec2`: app-tier instances the autoscaler launches and terminates; `asg`: an EC2 Auto Scaling group whose desired capacity the autoscaler sets (`APP_TIER_GROUP`; `npm run aws:provision -- --group`)',
      deploy: { to: ['web'] },
    }),
    dir: setting('FLEET_DIR', {
      schema: text().optional(),
      readBy: ['local', 'autoscaler', 'worker'],
      defaultText: '`DATA_DIR/fleet`',
      description: 'the local fleet’s registry (one file per worker), so a restarted autoscaler adopts its workers',
    }),
    ownerPid: setting('FLEET_OWNER_PID', {
      schema: optionalInt(1, 2 ** 31 - 1),
      readBy: ['worker', 'autoscaler'],
      defaultText: 'set by the local fleet',
      description: 'local fleet: the process whose end makes its workers stop (`npm start`’s); not for people to set',
    }),
    livenessSeconds: setting('WORKER_LIVENESS_SECONDS', {
      schema: int(2, 3600, 15),
      unit: 'seconds',
      readBy: ['autoscaler'],
      description:
        'local fleet: a running worker that gave no liveness signal (every second) for this long is killed and replaced (frozen, or its event loop stuck)',
    }),
    warmWorkers: setting('WARM_WORKERS', {
      schema: int(0, 64, 1),
      unit: 'workers',
      readBy: ['autoscaler'],
      description:
        'local fleet: worker processes kept warm beside the running ones (models loaded, the gallery read, taking no messages, no CPU to speak of), as an Auto Scaling group’s warm pool keeps stopped instances; a scale-out wakes them first, in milliseconds, then starts new ones. Not counted in `MAX_WORKERS`',
    }),
    ec2: {
      launchTemplate: setting('APP_TIER_LAUNCH_TEMPLATE', {
        schema: text().optional(),
        readBy: ['autoscaler'],
        description:
          'EC2 fleet: launch template id (`lt-…`) or name for app-tier instances; or give `APP_TIER_AMI_ID` and the settings below (provisioning writes it into the web instance’s environment)',
      }),
      amiId: setting('APP_TIER_AMI_ID', {
        schema: z
          .string()
          .regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id like ami-0123456789abcdef0')
          .optional(),
        readBy: ['autoscaler', 'tools'],
        description: 'EC2 fleet: the app-tier AMI (`ami-…`), when no launch template is given or to override its AMI',
      }),
      instanceType: setting('APP_TIER_INSTANCE_TYPE', {
        schema: text().optional(),
        readBy: ['autoscaler', 'tools'],
        defaultText: '`t3.micro` (or the template’s)',
        description: 'EC2 fleet: instance type of app-tier instances',
      }),
      subnetId: setting('APP_TIER_SUBNET_ID', {
        schema: text().optional(),
        readBy: ['autoscaler', 'tools'],
        description: 'EC2 fleet: the subnet of app-tier instances (and of the web instance)',
        deploy: { to: ['web'] },
      }),
      securityGroupIds: setting('APP_TIER_SECURITY_GROUP_IDS', {
        schema: text().optional(),
        readBy: ['autoscaler'],
        description: 'EC2 fleet: comma-separated security group ids of app-tier instances',
        as: (ids) =>
          ids
            ?.split(',')
            .map((g) => g.trim())
            .filter(Boolean),
      }),
      instanceProfile: setting('APP_TIER_INSTANCE_PROFILE', {
        schema: text().optional(),
        readBy: ['autoscaler'],
        description: 'EC2 fleet: the workers’ IAM instance profile (name or ARN)',
      }),
      warmPool: setting('WARM_POOL', {
        schema: bool(false),
        readBy: ['autoscaler', 'tools'],
        description: 'EC2 fleet: start and stop a pool of stopped instances instead of launching and terminating',
        deploy: { to: ['web'] },
      }),
    },
  },
  shutdownGraceSeconds: setting('SHUTDOWN_GRACE_SECONDS', {
    schema: int(1, 3600, 30),
    unit: 'seconds',
    readBy: ['web', 'worker', 'autoscaler', 'local'],
    description: 'how long a stopping process may take to finish the work it holds',
    deploy: { to: BOTH },
  }),
  log: {
    level: setting('LOG_LEVEL', {
      schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      readBy: ALL,
      description: 'pino log level',
      deploy: { to: BOTH },
    }),
    format: setting('LOG_FORMAT', {
      schema: z.enum(['auto', 'json', 'pretty']).default('auto'),
      readBy: ALL,
      description: '`auto` prints pretty logs to a terminal and JSON lines otherwise',
      // Instances log to the journal, read by machines.
      deploy: { to: BOTH, fixed: 'json' },
    }),
    shipping: setting('LOG_SHIPPING', {
      schema: z.enum(['off', 'cloudwatch']).default('off'),
      readBy: ['tools'],
      description:
        '`cloudwatch`: the instances ship every facefleet unit’s journal to CloudWatch Logs, log group `/facefleet/<prefix>`, a stream per instance, kept `RETENTION_DAYS` (the CloudWatch agent, baked into the image; `npm run aws:provision -- --logs` sets it and gives the roles AWS’s CloudWatchAgentServerPolicy)',
      deploy: { to: BOTH },
    }),
  },
} as const;

type Leaves<T> = T extends { readonly env: string; readonly schema: z.ZodType }
  ? T
  : { [K in keyof T]: Leaves<T[K]> }[keyof T];
type Setting = Leaves<typeof SETTING_TREE>;
export type SettingName = Setting['env'];
/** The config's shape: the tree, with each setting's value in its place. */
export type SettingValues<T = typeof SETTING_TREE> = T extends {
  readonly env: string;
  readonly as?: (value: never) => infer V;
}
  ? V
  : { readonly [K in keyof T]: SettingValues<T[K]> };

/** A declaration (its value a function of the parsed one), as the walks below see it. */
type AnySetting = SettingSpec & { readonly as?: (value: unknown) => unknown };

function isSetting(node: object): node is AnySetting {
  return 'env' in node && typeof node.env === 'string' && 'schema' in node && node.schema instanceof z.ZodType;
}

function settingsIn(node: object): AnySetting[] {
  return isSetting(node) ? [node] : Object.values(node as Record<string, object>).flatMap(settingsIn);
}

/** The settings by variable name, in the tree's order. */
export const SETTINGS = Object.fromEntries(settingsIn(SETTING_TREE).map((spec) => [spec.env, spec])) as {
  readonly [N in SettingName]: Extract<Setting, { readonly env: N }>;
};
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];
/** Variables whose values are never echoed, and never given to a process that does not read them. */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set(
  SETTING_NAMES.filter((n) => (SETTINGS[n] as SettingSpec).secret),
);
export type ParsedSettings = z.output<ReturnType<typeof environmentSchema>>;

/** The tree with each setting's value (parsed, then `as`) in place of its declaration. */
export function settingValues(parsed: ParsedSettings): SettingValues {
  const valuesOf = (node: object): unknown =>
    isSetting(node)
      ? (node.as ?? ((v: unknown) => v))(parsed[node.env as SettingName])
      : Object.fromEntries(
          Object.entries(node as Record<string, object>).map(([key, child]) => [key, valuesOf(child)]),
        );
  return valuesOf(SETTING_TREE) as SettingValues;
}

/** The zod object that parses an environment: one field per setting, its type, range and default. */
export function environmentSchema() {
  return z.object(
    Object.fromEntries(SETTING_NAMES.map((n) => [n, SETTINGS[n].schema])) as {
      [N in SettingName]: (typeof SETTINGS)[N]['schema'];
    },
  );
}
