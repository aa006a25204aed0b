/**
 * The shapes of the web tier's JSON answers, as zod schemas: the OpenAPI description (openapi.ts) is generated
 * from them, and the test of that description checks every documented example's answer against them, so the
 * document cannot drift from what the server says. Strict: a field the server sends and the document does not
 * name fails the test.
 */
import { z } from 'zod';
import { STAGES } from '../../shared/wire/answer-metrics.js';
import { ERROR_CATALOGUE, type ErrorCode } from '../../shared/wire/errors.js';
import { videoResultSchema } from '../../shared/wire/messages.js';

const ms = z.number().nonnegative();
const nullableMs = ms.nullable();
const count = z.number().int().nonnegative();

export const errorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]]),
      message: z.string().describe('One sentence a person understands.'),
      requestId: z.uuid().optional().describe('The request id in the server’s logs, once one was given.'),
    }),
  })
  .meta({ id: 'Error', description: 'An error, as JSON (with `Accept: application/json`).' });

const faceSchema = z.strictObject({
  box: z
    .tuple([z.number(), z.number(), z.number(), z.number()])
    .describe('x1, y1, x2, y2 in pixels of the upright image'),
  score: z.number().describe('the detector’s face probability, 0..1'),
  label: z.string().optional().describe('the name, or "Unknown" below MATCH_THRESHOLD'),
  similarity: z.number().optional().describe('cosine similarity of the best candidate'),
  candidates: z
    .array(z.strictObject({ name: z.string(), similarity: z.number() }))
    .optional()
    .describe('the most similar enrolled people, best first (at most 3)'),
});

export const recognitionSchema = z
  .strictObject({
    requestId: z.uuid(),
    name: z.string().describe('the upload’s file stem'),
    label: z.string().describe('the most prominent face’s name, or "Unknown"'),
    similarity: z.number().optional(),
    image: z.strictObject({ width: count, height: count }),
    facesFound: count,
    faces: z.array(faceSchema).describe('every face (up to MAX_FACES), most prominent first'),
    collection: z.string().optional().describe('the collection the faces were matched against'),
    galleryVersion: count.optional().describe('that collection’s version'),
    workerId: z.string(),
    timings: z
      .strictObject({
        validateMs: ms,
        uploadMs: ms,
        enqueueMs: ms,
        waitMs: ms,
        totalMs: ms,
        worker: z.record(z.string(), ms).describe('the worker’s stages: queueMs, downloadMs, decodeMs, …'),
      })
      .describe('milliseconds per stage (the same figures as the Server-Timing header)'),
  })
  .meta({ id: 'Recognition' });

export const videoSchema = z
  .strictObject({
    requestId: z.uuid(),
    name: z.string().describe('the upload’s file stem'),
    ...videoResultSchema.shape,
    image: z.strictObject({ width: count, height: count }).describe('the frames’ size as looked at'),
    facesFound: count.describe('faces detected over all frames'),
    collection: z.string().optional().describe('the collection the faces were matched against'),
    galleryVersion: count.optional(),
    workerId: z.string(),
    timings: recognitionSchema.shape.timings,
  })
  .meta({ id: 'VideoRoster' });

export const peopleListSchema = z
  .strictObject({
    collection: z.string(),
    galleryVersion: count,
    totalPeople: count.describe('people in the collection'),
    totalFaces: count.describe('faces in the collection'),
    people: z
      .array(z.strictObject({ name: z.string(), faces: count }))
      .describe('a page of people in code-point order of their names (`?limit=`, 100 by default)'),
    next: z.string().optional().describe('present when more follow: ask again with `?after=` this name'),
  })
  .meta({ id: 'People' });

export const personSchema = z
  .strictObject({
    name: z.string(),
    collection: z.string(),
    galleryVersion: count,
    faces: z.array(z.strictObject({ id: z.string(), addedAt: z.string().describe('ISO 8601') })),
  })
  .meta({ id: 'Person' });

export const enrollmentSchema = z
  .strictObject({
    name: z.string(),
    collection: z.string(),
    galleryVersion: count,
    added: z.array(
      z.strictObject({
        id: z.string(),
        file: z.string(),
        box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
        score: z.number(),
      }),
    ),
    alreadyEnrolled: z.array(z.strictObject({ id: z.string(), file: z.string() })),
    faces: count.describe('the person’s faces now'),
  })
  .meta({ id: 'Enrollment' });

export const personRemovedSchema = z
  .strictObject({ name: z.string(), collection: z.string(), removedFaces: count, galleryVersion: count })
  .meta({ id: 'PersonRemoved' });

export const faceRemovedSchema = z
  .strictObject({
    name: z.string(),
    collection: z.string(),
    removedFace: z.string(),
    faces: count,
    galleryVersion: count,
  })
  .meta({ id: 'FaceRemoved' });

export const collectionSchema = z
  .strictObject({
    name: z.string(),
    version: count.describe('increases by one with every change'),
    people: count,
    faces: count,
    bytes: count.describe('bytes of its segments in the gallery bucket'),
    segments: count,
    createdAt: z.string().describe('ISO 8601'),
    updatedAt: z.string().describe('ISO 8601'),
  })
  .meta({ id: 'Collection' });

export const collectionsListSchema = z
  .strictObject({ collections: z.array(collectionSchema).describe('every collection, the default one included') })
  .meta({ id: 'Collections' });

export const collectionDeletedSchema = z.strictObject({ deleted: collectionSchema }).meta({ id: 'CollectionDeleted' });

const workersSchema = z.strictObject({
  starting: count,
  running: count,
  stopping: count,
  warm: count.optional().describe('ready, taking no messages until a scale-out wakes them (WARM_WORKERS, locally)'),
});
const queueSchema = z.strictObject({ visible: count, inFlight: count });

export const statusSchema = z
  .strictObject({
    queue: queueSchema,
    workers: workersSchema,
    fleet: z.array(
      z.strictObject({
        id: z.string(),
        number: count,
        state: z.enum(['starting', 'running', 'stopping', 'warm']),
        metricsUrl: z.string().optional(),
        busy: z.boolean().optional().describe('holds messages now; absent when the fleet driver cannot tell'),
        received: count.optional().describe('messages it received since it started (the local fleet says)'),
        busyMs: z.number().nonnegative().optional().describe('milliseconds it spent on them'),
      }),
    ),
    desired: count,
    minWorkers: count,
    maxWorkers: count,
    messagesPerWorker: count,
    arrivals: z
      .strictObject({
        perSecond: z.number().nonnegative().optional().describe('requests arriving a second, smoothed over 10 s'),
        secondsPerMessage: z.number().nonnegative().optional().describe('a worker’s seconds on one, smoothed'),
        lastArrivalAgoMs: count.optional().describe('since a request last arrived (or a backlog was seen)'),
      })
      .optional()
      .describe('the traffic as the policy saw it; the local fleet’s workers report what they received'),
    action: z.string(),
    reason: z.string(),
    decidedAt: z.string(),
    error: z.string().optional(),
    web: z
      .strictObject({
        answeredBy: z.string().describe('the web process that answered this request'),
        processes: z.array(
          z.strictObject({
            id: z.string().describe('as the `web` key of every answer’s Facefleet-State header names it'),
            pid: count.optional(),
            host: z.string().optional().describe('another instance’s (from its reply queue’s tags)'),
            replyQueue: z.string().describe('the queue its results arrive on'),
            waiting: count.optional().describe('requests waiting for a worker’s answer'),
            metricsUrl: z.string().optional().describe('its own GET /metrics, with several web processes'),
          }),
        ),
      })
      .describe('the web processes: this machine’s, then other instances’ as their reply queues say'),
  })
  .meta({
    id: 'AutoscalerStatus',
    description: 'The autoscaler’s last decision and what it was based on, and the web tier’s processes.',
  });

const percentilesSchema = z
  .strictObject({ count, p50: nullableMs, p90: nullableMs, p99: nullableMs, max: nullableMs })
  .meta({ id: 'Percentiles', description: 'Nearest-rank percentiles in milliseconds; null when there is no sample.' });

export const liveSchema = z
  .strictObject({
    at: count,
    recognitions: z.strictObject({
      windowMs: count,
      answersPerSecond: z.number().nonnegative(),
      errorsPerSecond: z.number().nonnegative(),
      latencyMs: percentilesSchema,
    }),
    waiting: count,
    webProcesses: count.describe('the web processes on this machine whose figures are summed'),
    queue: queueSchema.nullable(),
    workers: workersSchema.nullable(),
    desired: count.nullable(),
    maxWorkers: count.nullable(),
    fleetReadAt: count.nullable(),
  })
  .meta({ id: 'Live' });

const window = { since: count, until: count };

export const overviewSchema = z
  .strictObject({
    ...window,
    truncated: z.boolean(),
    answers: count,
    errors: count,
    clientMs: percentilesSchema,
    serverMs: percentilesSchema,
    networkMs: percentilesSchema,
  })
  .meta({ id: 'MonitoringOverview' });

export const timelineSchema = z
  .strictObject({
    ...window,
    bucketMs: count,
    truncated: z.boolean(),
    buckets: z.array(
      z.strictObject({
        start: count,
        answers: count,
        errors: count,
        clientMs: percentilesSchema,
        serverMs: percentilesSchema,
        networkMs: percentilesSchema,
        workersRunning: count.nullable(),
        queued: count.nullable(),
      }),
    ),
  })
  .meta({ id: 'MonitoringTimeline' });

export const stagesSchema = z
  .strictObject({ ...window, truncated: z.boolean(), stages: z.partialRecord(z.enum(STAGES), percentilesSchema) })
  .meta({ id: 'MonitoringStages' });

export const workersReportSchema = z
  .strictObject({
    ...window,
    truncated: z.boolean(),
    workers: z.array(
      z.strictObject({ worker: z.string(), answers: count, errors: count, serverMs: percentilesSchema }),
    ),
  })
  .meta({ id: 'MonitoringWorkers' });

export const webProcessesReportSchema = z
  .strictObject({
    ...window,
    truncated: z.boolean(),
    web: z.array(z.strictObject({ web: z.string(), answers: count, errors: count, serverMs: percentilesSchema })),
  })
  .meta({ id: 'MonitoringWebProcesses' });

export const errorsReportSchema = z
  .strictObject({
    ...window,
    errors: z.array(z.strictObject({ status: count, code: z.string().nullable(), count })),
  })
  .meta({ id: 'MonitoringErrors' });

export const storedSchema = z.strictObject({ stored: count }).meta({ id: 'ReportsStored' });
