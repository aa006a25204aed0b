/**
 * The OpenAPI 3.1 description of the web tier's HTTP API, served at GET /openapi.json. Written here as data:
 * the operations, their answers' schemas (api-schemas.ts, through zod's JSON Schema output) and their error
 * sentences (the error catalogue's own), and an example per case. An example's name ties a request example
 * (its parameters, headers and body) to the answer it gets; test/integration/openapi.test.ts sends every
 * example to a real stack and checks the answer is as described, and that every route of the app is here.
 *
 * Example uploads name files of the course workload (`test_000.jpg`) and of LFW (`Aaron_Peirsol_0001.jpg`), and
 * videos the test makes from them (`classroom.mp4`: test_000 for two seconds).
 */
import { z } from 'zod';
import { SERVER_TIMING_HEADER, STATE_HEADER, ERROR_CODE_HEADER } from '../shared/wire/answer-metrics.js';
import { AppError, type ErrorCode } from '../shared/wire/errors.js';
import { MAX_REPORTS_PER_BATCH, reportBatchSchema } from '../shared/wire/monitor-reports.js';
import {
  collectionDeletedSchema,
  collectionSchema,
  collectionsListSchema,
  enrollmentSchema,
  errorSchema,
  errorsReportSchema,
  faceRemovedSchema,
  liveSchema,
  overviewSchema,
  peopleListSchema,
  personRemovedSchema,
  personSchema,
  recognitionSchema,
  statusSchema,
  stagesSchema,
  storedSchema,
  timelineSchema,
  videoSchema,
  workersReportSchema,
  webProcessesReportSchema,
} from './api-schemas.js';

/** The API key in the examples; the OpenAPI test runs a stack whose API_KEY is this. */
export const EXAMPLE_API_KEY = 'example-api-key-0123456789';
/** A fixed time for the examples' reports (2026-11-27 12:00 UTC). */
const EXAMPLE_AT = Date.UTC(2026, 10, 27, 12);

type Schema = z.ZodType;

interface Answer {
  readonly description: string;
  /** JSON answers' schema; text answers have none. */
  readonly schema?: Schema;
  readonly type?: string;
}

interface Example {
  readonly summary: string;
  readonly path?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  /** A multipart body: field → file name(s); or a JSON body. */
  readonly files?: Record<string, string | string[]>;
  readonly json?: unknown;
  readonly status: number;
  /** The answer's whole text, where it is always the same. */
  readonly text?: string;
  /** The answer's media type where it is neither JSON nor plain text (a CSV), and its text varies. */
  readonly type?: string;
}

interface Operation {
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly key?: 'always' | 'for-changes';
  /** Query parameters: their description (a number), or their description and type. */
  readonly query?: Record<string, string | { readonly description: string; readonly type: 'string' | 'number' }>;
  readonly body?: {
    readonly type: 'multipart/form-data' | 'application/json';
    readonly schema: Record<string, unknown>;
  };
  readonly answers: Record<number, Answer>;
  readonly examples: Record<string, Example>;
}

const errorText = (code: ErrorCode, params: Record<string, string | number> = {}) =>
  new AppError(code, params as never).message;
const errorAnswer = (description: string): Answer => ({ description, schema: errorSchema });
const key = { 'X-API-Key': EXAMPLE_API_KEY };

const uploadSchema = (field: string, many: boolean) => ({
  type: 'object',
  required: [field],
  properties: {
    [field]: many
      ? {
          type: 'array',
          items: { type: 'string', contentMediaType: 'application/octet-stream' },
          minItems: 1,
          maxItems: 10,
        }
      : { type: 'string', contentMediaType: 'application/octet-stream', description: 'a JPEG, PNG or WebP image' },
  },
});

const collectionQuery = {
  description: 'the collection to match against (default: `default`); 404 when it does not exist',
  type: 'string',
} as const;

const pageQuery = {
  after: { description: 'the `next` of the page before: people whose names come after it', type: 'string' },
  limit: 'people on this page, 1 to 1000 (default 100)',
} as const;

const windowQuery = {
  minutes: 'the window ends now and starts this many minutes ago (default 15, at most 10080)',
  since: 'or: the window’s start, epoch milliseconds',
  until: 'the window’s end, epoch milliseconds (default now)',
};

const monitoringQuery = (schema: Schema, what: string, extra: Record<string, string> = {}): Operation => ({
  summary: what,
  tag: 'monitoring',
  description: 'Forwarded to the monitoring server (MONITOR_URL; `npm start` runs one); 503 when there is none.',
  query: { ...windowQuery, ...extra },
  answers: { 200: { description: what, schema }, 400: errorAnswer('the query is not valid') },
  examples: {
    lastQuarterHour: { summary: 'the last 15 minutes', query: { minutes: '15' }, status: 200 },
    badWindow: {
      summary: 'a window that ends before it starts',
      query: { since: '2000', until: '1000' },
      headers: { Accept: 'text/plain' },
      status: 400,
      text: errorText('BAD_QUERY', { reason: 'since must be before until' }),
    },
  },
});

/** Every operation, by path and method, in the order the examples run (enrollment before its reads). */
export const OPERATIONS: Record<string, Record<string, Operation>> = {
  '/': {
    post: {
      summary: 'Recognise the faces in one image',
      description:
        'The course contract: one image in the multipart field `inputFile`, answered with `<stem>:<label>` in plain text, the most prominent face’s name or `Unknown`. With `Accept: application/json`, every face with its box, label, similarity and top-3 candidates.',
      tag: 'recognition',
      query: { collection: collectionQuery },
      body: { type: 'multipart/form-data', schema: uploadSchema('inputFile', false) },
      answers: {
        200: {
          description: 'the answer: `<stem>:<label>` (text/plain), or every face (JSON)',
          schema: recognitionSchema,
        },
        400: errorAnswer('no file, a malformed upload, or an invalid collection name'),
        404: errorAnswer('no such collection'),
        413: errorAnswer('larger than MAX_UPLOAD_BYTES'),
        415: errorAnswer('not a JPEG, PNG or WebP image'),
        422: errorAnswer('no face in the image, or nobody enrolled'),
        503: errorAnswer('the server is at its limits or shutting down (Retry-After)'),
        504: errorAnswer('no worker answered within RESULT_TIMEOUT_SECONDS'),
      },
      examples: {
        course: { summary: 'a course image', files: { inputFile: 'test_000.jpg' }, status: 200, text: 'test_000:Paul' },
        everyFace: {
          summary: 'every face, as JSON',
          files: { inputFile: 'test_001.jpg' },
          headers: { Accept: 'application/json' },
          status: 200,
        },
        notAnImage: {
          summary: 'a text file',
          files: { inputFile: 'notes.txt' },
          status: 415,
          text: errorText('NOT_AN_IMAGE', { file: 'notes.txt' }),
        },
        noFile: { summary: 'no file in the form', files: {}, status: 400, text: errorText('MISSING_FILE') },
        noFace: {
          summary: 'a picture of a wall',
          files: { inputFile: 'wall.jpg' },
          status: 422,
          text: errorText('NO_FACE', { file: 'wall.jpg' }),
        },
        noCollection: {
          summary: 'a collection nobody created',
          query: { collection: 'nowhere' },
          files: { inputFile: 'test_000.jpg' },
          status: 404,
          text: errorText('COLLECTION_NOT_FOUND', { name: 'nowhere' }),
        },
      },
    },
    get: {
      summary: 'Open the web console',
      description: 'A browser (asking for text/html) is sent to /console/; any other client is told to POST.',
      tag: 'console',
      answers: { 303: { description: 'to /console/' }, 405: errorAnswer('not a browser: use POST') },
      examples: {
        browser: { summary: 'a browser', headers: { Accept: 'text/html' }, status: 303 },
        script: {
          summary: 'a script',
          headers: { Accept: 'text/plain' },
          status: 405,
          text: errorText('METHOD_NOT_ALLOWED', { method: 'GET', path: '/', allow: 'POST' }),
        },
      },
    },
  },
  '/videos': {
    post: {
      summary: 'Who is in a classroom video, with their student records',
      description:
        'One MP4, MOV or WebM video in the multipart field `inputFile`. Its header is checked first (VIDEO_MAX_BYTES, VIDEO_MAX_SECONDS, VIDEO_MAX_DIMENSION); then a worker looks at a frame every VIDEO_FRAME_SECONDS from the first, names every face, counts each person once (first seen, best similarity) and the unknown faces apart, and stores `<stem>.csv` with each student’s record in the out-bucket. The answer is that roster as JSON, or the CSV itself with `Accept: text/csv`. It needs the API key (VIDEOS_REQUIRE_KEY): the records are personal.',
      tag: 'videos',
      key: 'always',
      query: { collection: collectionQuery },
      body: {
        type: 'multipart/form-data',
        schema: {
          type: 'object',
          required: ['inputFile'],
          properties: {
            inputFile: {
              type: 'string',
              contentMediaType: 'application/octet-stream',
              description: 'an MP4, MOV or WebM video',
            },
          },
        },
      },
      answers: {
        200: { description: 'the roster (JSON), or its CSV (`Accept: text/csv`)', schema: videoSchema },
        400: errorAnswer('no file, an empty one, a malformed upload, or an invalid collection name'),
        401: errorAnswer('no API key'),
        403: errorAnswer('a wrong API key, or none on the server'),
        404: errorAnswer('no such collection'),
        413: errorAnswer('larger than VIDEO_MAX_BYTES'),
        415: errorAnswer('not an MP4, MOV or WebM video'),
        422: errorAnswer(
          'damaged or truncated, no picture, too long or too large a picture, no frame or no face, or nobody enrolled',
        ),
        503: errorAnswer('the server is at its limits, shutting down, or has no video tools'),
        504: errorAnswer('no worker answered within VIDEO_RESULT_TIMEOUT_SECONDS'),
      },
      examples: {
        classroom: { summary: 'a class of one', headers: key, files: { inputFile: 'classroom.mp4' }, status: 200 },
        classroomCsv: {
          summary: 'the same, as the CSV',
          files: { inputFile: 'classroom.mp4' },
          headers: { ...key, Accept: 'text/csv' },
          status: 200,
          type: 'text/csv',
        },
        noKey: {
          summary: 'without the API key',
          files: { inputFile: 'classroom.mp4' },
          status: 401,
          text: errorText('API_KEY_MISSING'),
        },
        notAVideo: {
          summary: 'a text file',
          headers: key,
          files: { inputFile: 'notes.txt' },
          status: 415,
          text: errorText('NOT_A_VIDEO', { file: 'notes.txt' }),
        },
        emptyRoom: {
          summary: 'two seconds of an empty room',
          headers: key,
          files: { inputFile: 'empty-room.mp4' },
          status: 422,
          text: errorText('VIDEO_NO_FACES', { file: 'empty-room.mp4', frames: 2 }),
        },
      },
    },
  },
  '/collections/{collection}': {
    post: {
      summary: 'Create a collection',
      description:
        'A collection is a gallery of its own (Rekognition’s word): people and faces are enrolled in one, and `POST /?collection=` matches against one. The rules of a gallery (one face a photo, its dominant one; names that do not read as another; a photo under one name) hold inside each. The `default` collection needs no creating: it is the one `/people` and a plain `POST /` use.',
      tag: 'collections',
      key: 'always',
      answers: {
        201: { description: 'created, empty', schema: collectionSchema },
        400: errorAnswer('not a collection name'),
        401: errorAnswer('no API key'),
        409: errorAnswer('it exists already'),
      },
      examples: {
        create: { summary: 'a new collection', path: { collection: 'staff' }, headers: key, status: 201 },
        createAnother: { summary: 'another', path: { collection: 'archive' }, headers: key, status: 201 },
        exists: {
          summary: 'one that exists',
          path: { collection: 'staff' },
          headers: key,
          status: 409,
          text: errorText('COLLECTION_EXISTS', { name: 'staff' }),
        },
        badName: {
          summary: 'a name with a slash',
          path: { collection: 'a/b' },
          headers: key,
          status: 400,
          text: errorText('INVALID_COLLECTION', { name: 'a/b', max: 64 }),
        },
      },
    },
    get: {
      summary: 'What a collection holds',
      tag: 'collections',
      key: 'for-changes',
      answers: {
        200: { description: 'its people, faces, version and size', schema: collectionSchema },
        404: errorAnswer('no such collection'),
      },
      examples: {
        describe: { summary: 'a collection', path: { collection: 'staff' }, headers: key, status: 200 },
        nowhere: {
          summary: 'one nobody created',
          path: { collection: 'nowhere' },
          headers: key,
          status: 404,
          text: errorText('COLLECTION_NOT_FOUND', { name: 'nowhere' }),
        },
      },
    },
    delete: {
      summary: 'Delete a collection, everyone in it and their enrollment photos',
      tag: 'collections',
      key: 'always',
      answers: {
        200: { description: 'deleted', schema: collectionDeletedSchema },
        404: errorAnswer('no such collection'),
      },
      examples: {
        remove: { summary: 'a collection', path: { collection: 'archive' }, headers: key, status: 200 },
      },
    },
  },
  '/collections': {
    get: {
      summary: 'Every collection',
      tag: 'collections',
      key: 'for-changes',
      answers: {
        200: { description: 'each collection, described', schema: collectionsListSchema },
        401: errorAnswer('no API key'),
      },
      examples: { list: { summary: 'with the key', headers: key, status: 200 } },
    },
  },
  '/collections/{collection}/people/{name}/faces': {
    post: {
      summary: 'Enroll a person in a collection with 1 to 10 photos of their face',
      tag: 'collections',
      key: 'always',
      body: { type: 'multipart/form-data', schema: uploadSchema('images', true) },
      answers: {
        201: { description: 'enrolled', schema: enrollmentSchema },
        200: { description: 'every photo was already enrolled', schema: enrollmentSchema },
        400: errorAnswer('an invalid name, or no photo'),
        404: errorAnswer('no such collection'),
        422: errorAnswer(
          'a photo whose face cannot be enrolled: none, several of about one size, too small or too blurred',
        ),
      },
      examples: {
        enroll: {
          summary: 'two photos of one person',
          path: { collection: 'staff', name: 'Aaron_Example' },
          headers: key,
          files: { images: ['Aaron_Peirsol_0001.jpg', 'Aaron_Peirsol_0002.jpg'] },
          status: 201,
        },
      },
    },
  },
  '/collections/{collection}/people': {
    get: {
      summary: 'Everyone enrolled in a collection, a page at a time',
      tag: 'collections',
      key: 'for-changes',
      query: pageQuery,
      answers: {
        200: { description: 'names and face counts', schema: peopleListSchema },
        404: errorAnswer('no such collection'),
      },
      examples: {
        list: {
          summary: 'the first page',
          path: { collection: 'staff' },
          query: { limit: '10' },
          headers: key,
          status: 200,
        },
      },
    },
  },
  '/collections/{collection}/people/{name}': {
    get: {
      summary: 'One person’s faces in a collection',
      tag: 'collections',
      key: 'for-changes',
      answers: { 200: { description: 'the person', schema: personSchema }, 404: errorAnswer('nobody by that name') },
      examples: {
        person: {
          summary: 'an enrolled person',
          path: { collection: 'staff', name: 'Aaron_Example' },
          headers: key,
          status: 200,
        },
      },
    },
    delete: {
      summary: 'Remove a person from a collection',
      tag: 'collections',
      key: 'always',
      answers: {
        200: { description: 'removed', schema: personRemovedSchema },
        404: errorAnswer('nobody by that name'),
      },
      examples: {
        remove: {
          summary: 'an enrolled person',
          path: { collection: 'staff', name: 'Aaron_Example' },
          headers: key,
          status: 200,
        },
      },
    },
  },
  '/collections/{collection}/people/{name}/faces/{faceId}': {
    delete: {
      summary: 'Remove one face of a person in a collection',
      tag: 'collections',
      key: 'always',
      answers: {
        200: { description: 'removed', schema: faceRemovedSchema },
        404: errorAnswer('no such person or face'),
      },
      examples: {
        nobody: {
          summary: 'a person the collection does not have',
          path: { collection: 'staff', name: 'Nobody_Here', faceId: '0000000000000000' },
          headers: { ...key, Accept: 'text/plain' },
          status: 404,
          text: errorText('PERSON_NOT_FOUND', { name: 'Nobody_Here' }),
        },
      },
    },
  },
  '/people/{name}/faces': {
    post: {
      summary: 'Enroll a person with 1 to 10 photos of their face',
      tag: 'people',
      key: 'always',
      body: { type: 'multipart/form-data', schema: uploadSchema('images', true) },
      answers: {
        201: { description: 'enrolled', schema: enrollmentSchema },
        200: { description: 'every photo was already enrolled', schema: enrollmentSchema },
        400: errorAnswer('an invalid name, or no photo'),
        401: errorAnswer('no API key'),
        403: errorAnswer('a wrong API key'),
        422: errorAnswer(
          'a photo whose face cannot be enrolled: none, several of about one size, too small or too blurred',
        ),
      },
      examples: {
        enroll: {
          summary: 'two photos of one person',
          path: { name: 'Aaron_Example' },
          headers: key,
          files: { images: ['Aaron_Peirsol_0001.jpg', 'Aaron_Peirsol_0002.jpg'] },
          status: 201,
        },
        noKey: {
          summary: 'without the API key',
          path: { name: 'Aaron_Example' },
          files: { images: ['Aaron_Peirsol_0001.jpg'] },
          status: 401,
          text: errorText('API_KEY_MISSING'),
        },
      },
    },
  },
  '/people': {
    get: {
      summary: 'Everyone enrolled in the default collection, a page at a time',
      tag: 'people',
      key: 'for-changes',
      query: pageQuery,
      answers: {
        200: { description: 'names and face counts', schema: peopleListSchema },
        401: errorAnswer('no API key'),
      },
      examples: { list: { summary: 'with the key', headers: key, status: 200 } },
    },
  },
  '/people/{name}/faces/{faceId}': {
    delete: {
      summary: 'Remove one face of a person',
      tag: 'people',
      key: 'always',
      answers: {
        200: { description: 'removed', schema: faceRemovedSchema },
        404: errorAnswer('no such person or face'),
      },
      examples: {
        unknownFace: {
          summary: 'a face id the person does not have',
          path: { name: 'Aaron_Example', faceId: '0000000000000000' },
          headers: { ...key, Accept: 'text/plain' },
          status: 404,
          text: errorText('FACE_NOT_FOUND', { name: 'Aaron_Example', faceId: '0000000000000000' }),
        },
      },
    },
  },
  '/people/{name}': {
    get: {
      summary: 'One person’s faces',
      tag: 'people',
      key: 'for-changes',
      answers: { 200: { description: 'the person', schema: personSchema }, 404: errorAnswer('nobody by that name') },
      examples: {
        person: { summary: 'an enrolled person', path: { name: 'Aaron_Example' }, headers: key, status: 200 },
        nobody: {
          summary: 'a name nobody has',
          path: { name: 'Nobody_Here' },
          headers: { ...key, Accept: 'text/plain' },
          status: 404,
          text: errorText('PERSON_NOT_FOUND', { name: 'Nobody_Here' }),
        },
      },
    },
    delete: {
      summary: 'Remove a person and every face of theirs',
      tag: 'people',
      key: 'always',
      answers: {
        200: { description: 'removed', schema: personRemovedSchema },
        404: errorAnswer('nobody by that name'),
      },
      examples: {
        remove: { summary: 'an enrolled person', path: { name: 'Aaron_Example' }, headers: key, status: 200 },
      },
    },
  },
  '/healthz': {
    get: {
      summary: 'The process is alive',
      tag: 'operations',
      answers: { 200: { description: '`ok`', type: 'text/plain' } },
      examples: { alive: { summary: 'always', status: 200, text: 'ok' } },
    },
  },
  '/readyz': {
    get: {
      summary: 'The web tier can do its job (buckets and queues answer)',
      tag: 'operations',
      answers: {
        200: { description: '`ready`', type: 'text/plain' },
        503: { description: 'what it cannot reach', type: 'text/plain' },
      },
      examples: { ready: { summary: 'with S3 and SQS up', status: 200, text: 'ready' } },
    },
  },
  '/status': {
    get: {
      summary: 'The autoscaler’s last decision (queue depth, workers by state, desired) and the web processes',
      tag: 'operations',
      answers: {
        200: { description: 'the status', schema: statusSchema },
        503: errorAnswer('the autoscaler does not answer'),
      },
      examples: { status: { summary: 'a running autoscaler', status: 200 } },
    },
  },
  '/live': {
    get: {
      summary: 'Recognitions per second, latency and the fleet, for the console’s live view',
      tag: 'operations',
      answers: { 200: { description: 'the last seconds', schema: liveSchema } },
      examples: { live: { summary: 'now', status: 200 } },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics of the web tier',
      description:
        'The Prometheus text format: answers by route, status and code, latency histograms by stage, requests waiting, the queue and the fleet as the autoscaler last saw them, process metrics. The autoscaler and each worker serve their own /metrics.',
      tag: 'operations',
      answers: { 200: { description: 'the metrics', type: 'text/plain; version=0.0.4' } },
      examples: { scrape: { summary: 'a scrape', status: 200 } },
    },
  },
  '/openapi.json': {
    get: {
      summary: 'This description',
      tag: 'operations',
      answers: { 200: { description: 'OpenAPI 3.1', type: 'application/json' } },
      examples: { self: { summary: 'this document', status: 200 } },
    },
  },
  '/monitoring/reports': {
    post: {
      summary: 'Report what a client saw of its answers (batches)',
      description: `Forwarded to the monitoring server. At most ${MAX_REPORTS_PER_BATCH} reports and 512 KiB per batch; a batch with one bad report is refused whole, and nothing of it is stored. Too many batches from one client in a minute: 429.`,
      tag: 'monitoring',
      body: {
        type: 'application/json',
        schema: z.toJSONSchema(reportBatchSchema, { io: 'input' }) as Record<string, unknown>,
      },
      answers: {
        202: { description: 'stored', schema: storedSchema },
        400: errorAnswer('not a valid batch'),
        413: errorAnswer('larger than 512 KiB'),
        429: errorAnswer('too many batches from this client in the last minute'),
        503: errorAnswer('no monitoring server'),
      },
      examples: {
        report: {
          summary: 'one answer seen by the workload generator',
          json: {
            reports: [
              {
                at: EXAMPLE_AT,
                source: 'workload',
                status: 200,
                clientMs: 84.2,
                server: {
                  validate: 0.4,
                  upload: 3.1,
                  enqueue: 2.2,
                  wait: 70.4,
                  detect: 12.1,
                  embed: 30.5,
                  total: 76.5,
                },
                state: { queueVisible: 0, queueInFlight: 1, workersRunning: 1, worker: 'local-worker-1', gallery: 3 },
              },
            ],
          },
          status: 202,
        },
        garbage: {
          summary: 'a report with a negative time',
          json: { reports: [{ at: EXAMPLE_AT, source: 'workload', status: 200, clientMs: -1 }] },
          headers: { Accept: 'text/plain' },
          status: 400,
          text: errorText('REPORTS_INVALID', { reason: 'reports.0.clientMs: Too small: expected number to be >=0' }),
        },
      },
    },
  },
  '/monitoring/api/overview': {
    get: monitoringQuery(overviewSchema, 'Answers, errors, and client, server and network latency'),
  },
  '/monitoring/api/timeline': {
    get: monitoringQuery(timelineSchema, 'The same over time, in buckets', {
      bucketSeconds: 'the buckets’ length (default: about 60 buckets over the window, at most 720)',
    }),
  },
  '/monitoring/api/stages': { get: monitoringQuery(stagesSchema, 'Latency per stage (web tier and worker)') },
  '/monitoring/api/workers': {
    get: monitoringQuery(workersReportSchema, 'Answers, errors and server latency per worker'),
  },
  '/monitoring/api/web': {
    get: monitoringQuery(webProcessesReportSchema, 'Answers, errors and server latency per web process'),
  },
  '/monitoring/api/errors': { get: monitoringQuery(errorsReportSchema, 'Errors by status and code') },
  '/console': {
    get: {
      summary: 'The web console',
      description: 'The page is `/console/` (text/html); `/console` is sent there.',
      tag: 'console',
      answers: { 301: { description: 'to /console/, the page' } },
      examples: { page: { summary: 'the console’s address', status: 301 } },
    },
  },
  '/console/{file}': {
    get: {
      summary: 'The web console’s script and style sheet',
      tag: 'console',
      answers: { 200: { description: 'the file', type: 'text/javascript' }, 404: errorAnswer('no such file') },
      examples: {
        script: { summary: 'the script', path: { file: 'main.js' }, status: 200 },
        missing: {
          summary: 'a file it does not have',
          path: { file: 'nothing.js' },
          headers: { Accept: 'text/plain' },
          status: 404,
          text: errorText('NOT_FOUND', { path: '/console/nothing.js' }),
        },
      },
    },
  },
};

const SCHEMAS = [
  errorSchema,
  recognitionSchema,
  peopleListSchema,
  personSchema,
  enrollmentSchema,
  personRemovedSchema,
  faceRemovedSchema,
  statusSchema,
  liveSchema,
  overviewSchema,
  timelineSchema,
  stagesSchema,
  workersReportSchema,
  webProcessesReportSchema,
  errorsReportSchema,
  storedSchema,
  videoSchema,
  collectionSchema,
  collectionsListSchema,
  collectionDeletedSchema,
];

/** The zod schema of each named component: what the OpenAPI test checks answers against. */
export const COMPONENT_SCHEMAS: ReadonlyMap<string, Schema> = new Map(
  SCHEMAS.map((s) => [String((z.globalRegistry.get(s) as { id?: string } | undefined)?.id), s]),
);

/** The document, built once. */
export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  // Every schema with an id (api-schemas.ts gives each one) becomes a component, and refers to the others.
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    uri: (id: string) => `#/components/schemas/${id}`,
    unrepresentable: 'any',
  }) as { schemas: Record<string, Record<string, unknown>> };
  const components = Object.fromEntries(
    // A component is a schema inside the document: no dialect, id or address of its own.
    Object.entries(schemas).map(([id, schema]) => [
      id,
      Object.fromEntries(Object.entries(schema).filter(([k]) => !['$schema', '$id', 'id'].includes(k))),
    ]),
  );
  const ref = (schema: Schema) => ({
    $ref: `#/components/schemas/${(z.globalRegistry.get(schema) as { id: string }).id}`,
  });
  const headers = {
    [SERVER_TIMING_HEADER]: { $ref: '#/components/headers/ServerTiming' },
    [STATE_HEADER]: { $ref: '#/components/headers/State' },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, methods] of Object.entries(OPERATIONS)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(methods)) {
      const examples = Object.entries(op.examples);
      const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      const exampleValues = (pick: (e: Example) => string | undefined) =>
        Object.fromEntries(
          examples.flatMap(([name, e]) =>
            pick(e) === undefined ? [] : [[name, { summary: e.summary, value: pick(e) }]],
          ),
        );
      const headerNames = [...new Set(examples.flatMap(([, e]) => Object.keys(e.headers ?? {})))];
      const parameters = [
        ...pathParams.map((p) => ({
          name: p,
          in: 'path',
          required: true,
          schema: { type: 'string' },
          examples: exampleValues((e) => e.path?.[p]),
        })),
        ...Object.entries(op.query ?? {}).map(([q, spec]) => {
          const type = typeof spec === 'string' ? 'number' : spec.type;
          // A number's examples are numbers (the address carries them as text; the test sends them so).
          const examples = Object.fromEntries(
            Object.entries(exampleValues((e) => e.query?.[q])).map(([name, x]) => [
              name,
              type === 'number' ? { ...x, value: Number(x.value) } : x,
            ]),
          );
          return {
            name: q,
            in: 'query',
            required: false,
            description: typeof spec === 'string' ? spec : spec.description,
            schema: { type },
            examples,
          };
        }),
        ...headerNames.map((hd) => ({
          name: hd,
          in: 'header',
          required: false,
          schema: { type: 'string' },
          examples: exampleValues((e) => e.headers?.[hd]),
        })),
      ];
      const responses: Record<string, unknown> = {};
      for (const [status, answer] of Object.entries(op.answers)) {
        const mine = examples.filter(([, e]) => String(e.status) === status);
        const exampleMap = Object.fromEntries(
          mine.map(([name, e]) => [name, { summary: e.summary, ...(e.text === undefined ? {} : { value: e.text }) }]),
        );
        const content: Record<string, unknown> = {};
        if (answer.schema) {
          content['application/json'] = {
            schema: ref(answer.schema),
            examples: Object.fromEntries(
              mine.filter(([, e]) => e.text === undefined && !e.type).map(([n, e]) => [n, { summary: e.summary }]),
            ),
          };
          content['text/plain'] = {
            schema: { type: 'string' },
            examples: Object.fromEntries(
              mine.filter(([, e]) => e.text !== undefined).map(([n, e]) => [n, { summary: e.summary, value: e.text }]),
            ),
          };
          for (const [n, e] of mine.filter(([, e]) => e.type)) {
            const media = (content[e.type!] ??= { schema: { type: 'string' }, examples: {} }) as {
              examples: Record<string, unknown>;
            };
            media.examples[n] = { summary: e.summary };
          }
        } else if (answer.type) {
          content[answer.type] = { schema: { type: 'string' }, examples: exampleMap };
        }
        responses[status] = {
          description: answer.description,
          headers:
            Number(status) >= 400
              ? { ...headers, [ERROR_CODE_HEADER]: { $ref: '#/components/headers/ErrorCode' } }
              : headers,
          ...(Object.keys(content).length > 0 ? { content } : {}),
          ...(Object.keys(content).length === 0 ? { 'x-examples': Object.keys(exampleMap) } : {}),
        };
      }
      paths[path][method] = {
        operationId:
          `${method}${path.replace(/[^a-zA-Z]+(\w)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}` ||
          method,
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        tags: [op.tag],
        // Every operation says what it needs; an empty list: nothing, it is public.
        security: op.key === 'always' ? [{ apiKey: [] }] : op.key === 'for-changes' ? [{ apiKey: [] }, {}] : [],
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(op.body
          ? {
              requestBody: {
                required: true,
                content: {
                  [op.body.type]: {
                    schema: op.body.schema,
                    examples: Object.fromEntries(
                      examples
                        .filter(([, e]) => e.files !== undefined || e.json !== undefined)
                        .map(([name, e]) => [name, { summary: e.summary, value: e.json ?? e.files }]),
                    ),
                  },
                },
              },
            }
          : {}),
        responses,
      };
    }
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'facefleet',
      version: '1',
      description:
        'An elastic face-recognition web service. Every answer carries the server’s metrics: `Server-Timing` (the web tier’s and the worker’s stages) and `Facefleet-State` (queue depth, workers, the worker that answered, the gallery version). Errors are one sentence, in plain text or, with `Accept: application/json`, as JSON. Example uploads name files of the course workload (`test_000.jpg`) and of LFW.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    tags: [
      { name: 'recognition', description: 'Faces in a photo or a classroom video, named against a collection.' },
      {
        name: 'people',
        description: 'The enrollment API of the default collection; on when the server has API_KEY set.',
      },
      { name: 'collections', description: 'Collections, and the enrollment API inside each; API_KEY as for people.' },
      { name: 'operations', description: 'Health, readiness, the fleet’s state, metrics and this description.' },
      { name: 'monitoring', description: 'What clients saw, reported to and read back from the monitoring server.' },
      { name: 'console', description: 'The web console, a page for people.' },
    ],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description: 'API_KEY; `Authorization: Bearer <key>` works too.',
        },
      },
      headers: {
        ServerTiming: {
          description:
            'W3C Server-Timing: validate, upload, enqueue, wait (web tier); queue, download, decode, detect, landmarks, embed, match, store (worker); total. Milliseconds.',
          schema: {
            type: 'string',
            examples: ['validate;dur=0.4, upload;dur=3.1, enqueue;dur=2.2, wait;dur=70.4, total;dur=76.5'],
          },
        },
        State: {
          description:
            'An RFC 8941 dictionary: queue-visible, queue-in-flight, workers-starting, workers-running (as the autoscaler last saw them), worker (that answered), gallery (the version of the collection it matched against), collection, state-age-ms.',
          schema: {
            type: 'string',
            examples: [
              'queue-visible=0, queue-in-flight=1, workers-starting=0, workers-running=1, worker="local-worker-1", gallery=3, state-age-ms=412',
            ],
          },
        },
        ErrorCode: {
          description: 'The error’s code in the catalogue (docs/api.md).',
          schema: { type: 'string', examples: ['NO_FACE'] },
        },
      },
    },
  };
}
