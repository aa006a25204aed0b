/**
 * The messages between the tiers, versioned and schema-checked on both ends. A request message carries only
 * ids and the S3 key: the course's request queue has MaximumMessageSize = 1024 bytes. The upload's file name
 * travels whole with the image, as object metadata (FILE_NAME_METADATA); the key holds as much of it as fits a
 * fixed byte budget, so the message stays under the limit whatever the name.
 */
import { z } from 'zod';
import { ERROR_CATALOGUE, type ErrorCode } from './errors.js';

/** 3: the stem left the request message for the image's metadata (any file name now fits). */
export const MESSAGE_VERSION = 3 as const;
/** The course's request queue sets MaximumMessageSize to 1024 bytes; every request message must fit. */
export const MAX_REQUEST_MESSAGE_BYTES = 1024;
/** File names are cut to this many characters: the answer echoes at most this much of the stem. */
export const MAX_FILE_NAME_CHARS = 200;
/** Bytes of the file name that the in-bucket key holds, as the request message encodes it. */
export const KEY_NAME_MAX_BYTES = 400;
/**
 * Where recognition uploads live in the in-bucket: `uploads/<requestId>/<name>`. A prefix of their own, so
 * that the retention rule expires them and never the enrollment photos under `enrollment/`.
 */
export const UPLOADS_PREFIX = 'uploads/';
/** Where a video put straight into the in-bucket is processed from (S3 event notifications, on AWS). */
export const VIDEOS_PREFIX = 'videos/';
/** Where enrollment photos are kept in the in-bucket, each under its request's id. */
export const ENROLLMENT_PREFIX = 'enrollment/';
/** The in-bucket image's user metadata that holds the whole file name (base64url of its UTF-8). */
export const FILE_NAME_METADATA = 'file-name';

const errorCodes = Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]];

export const requestMessageSchema = z.object({
  v: z.literal(MESSAGE_VERSION),
  requestId: z.uuid(),
  /** Key of the uploaded image in the in-bucket: `uploads/<requestId>/<file name, cut to KEY_NAME_MAX_BYTES>`. */
  key: z.string().min(1).max(600),
  /** When the web tier accepted the upload, epoch milliseconds. */
  sentAt: z.number().int().nonnegative(),
  /**
   * `recognize` matches faces against the gallery; `enroll` only embeds them, for the enrollment API; `video`:
   * who is in a classroom video (tasks/video/video-task.ts).
   */
  task: z.enum(['recognize', 'enroll', 'video']).default('recognize'),
  /** `subject`: only the most prominent face (a plain-text answer); `all`: every face (a JSON answer). */
  faces: z.enum(['subject', 'all']).default('subject'),
  /** The collection to match against (at most 64 characters; checked by the web tier). */
  collection: z.string().min(1).max(64).default('default'),
  /**
   * The name of the queue the reply goes to: the web process's own (reply-queues.ts). Absent: the canonical
   * response queue, as with one web process (the course's setup) and with requests of older web tiers.
   */
  replyTo: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,80}$/)
    .optional(),
});
export type RequestMessage = z.infer<typeof requestMessageSchema>;

const timingsSchema = z.record(z.string(), z.number().nonnegative());

/** One detected face in a response, in pixels of the upright original image. */
const faceResultSchema = z.object({
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  /** The detector's face probability, 0..1. */
  score: z.number(),
  /** Recognize: the name, or "Unknown" below the match threshold. */
  label: z.string().optional(),
  /** Recognize: the best candidate's cosine similarity. */
  similarity: z.number().optional(),
  /** Recognize: the most similar enrolled people, best first (at most 3). */
  candidates: z.array(z.object({ name: z.string(), similarity: z.number() })).optional(),
  /** Enroll: the face's embedding, base64 little-endian float32. */
  embedding: z.string().optional(),
  /** Enroll: how sharp the aligned face is (src/app-tier/recognition/sharpness.ts). */
  sharpness: z.number().optional(),
});
export type FaceResult = z.infer<typeof faceResultSchema>;

/** A classroom video's roster (tasks/video/video-task.ts): who was seen, when first, how surely, with their records. */
export const videoResultSchema = z.object({
  container: z.enum(['mp4', 'mov', 'webm']),
  /** As the container's header says; absent when it does not. */
  durationSeconds: z.number().nonnegative().optional(),
  /** Seconds between the frames looked at, from 0 s. */
  frameSeconds: z.number().positive(),
  framesSeen: z.number().int().nonnegative(),
  students: z.array(
    z.object({
      name: z.string(),
      firstSeenSeconds: z.number().nonnegative(),
      bestSimilarity: z.number(),
      /** Frames in which they were recognised. */
      frames: z.number().int().positive(),
      /** Their record from the students table; absent when they have none. */
      record: z.record(z.string(), z.string()).optional(),
    }),
  ),
  unknown: z.object({
    /** Unknown faces over all frames. */
    faces: z.number().int().nonnegative(),
    /** The most unknown faces in one frame: at least this many unknown people were there. */
    mostInOneFrame: z.number().int().nonnegative(),
    /** Strangers: unknown faces followed from frame to frame, each counted once. */
    people: z.number().int().nonnegative(),
    firstSeenSeconds: z.number().nonnegative().optional(),
  }),
  /** The record fields, in the CSV's order. */
  recordFields: z.array(z.string()),
  /** The CSV's key in the out-bucket: `rosters/<video stem>.csv` (rosterKey). */
  csvKey: z.string(),
  /** True when the records were too many for the message: the CSV holds them. */
  recordsOmitted: z.boolean().optional(),
});
export type VideoResult = z.infer<typeof videoResultSchema>;

export const responseMessageSchema = z.discriminatedUnion('status', [
  z.object({
    v: z.literal(MESSAGE_VERSION),
    status: z.literal('ok'),
    requestId: z.uuid(),
    stem: z.string(),
    workerId: z.string(),
    task: z.enum(['recognize', 'enroll', 'video']),
    /** Size of the upright image (video: of its frames as looked at), in pixels. */
    image: z.object({ width: z.number().int(), height: z.number().int() }),
    /** Faces detected; `faces` lists the first of them, most prominent first. */
    facesFound: z.number().int().nonnegative(),
    faces: z.array(faceResultSchema),
    /** Recognize: the most prominent face's label and similarity, the course's answer. */
    label: z.string().min(1).optional(),
    similarity: z.number().optional(),
    /** Recognize: the version of the collection the faces were matched against. */
    galleryVersion: z.number().int().nonnegative().optional(),
    /** Recognize, video: the collection the faces were matched against. */
    collection: z.string().optional(),
    /** Video: the roster. */
    video: videoResultSchema.optional(),
    /** Milliseconds per stage on the worker: download, decode, detect, landmarks, embed, match, store. */
    timings: timingsSchema,
  }),
  z.object({
    v: z.literal(MESSAGE_VERSION),
    status: z.literal('error'),
    requestId: z.uuid(),
    stem: z.string(),
    workerId: z.string(),
    code: z.enum(errorCodes),
    params: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
    timings: timingsSchema,
  }),
]);
export type ResponseMessage = z.infer<typeof responseMessageSchema>;

/**
 * JSON as SQS and the emulator both take it. SQS accepts U+10000–U+10FFFF (emoji) but not U+FFFE, U+FFFF or
 * lone surrogates, and the emulator refuses everything above U+FFFF: those are written as JSON \u escapes
 * (plain ASCII), which JSON.parse turns back into the same characters. Lone surrogates are escaped by
 * JSON.stringify itself.
 */
export function sqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u{10000}-\u{10FFFF}\uFFFE\uFFFF]/gu, (c) =>
    [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  );
}

export function encodeRequest(message: z.input<typeof requestMessageSchema>): string {
  const body = sqsSafeJson(requestMessageSchema.parse(message));
  if (Buffer.byteLength(body) > MAX_REQUEST_MESSAGE_BYTES) {
    throw new RangeError(`request message is ${Buffer.byteLength(body)} bytes, over ${MAX_REQUEST_MESSAGE_BYTES}`);
  }
  return body;
}

export function encodeResponse(message: ResponseMessage): string {
  return sqsSafeJson(responseMessageSchema.parse(message));
}

/** Parses a message body; `undefined` when it is not JSON or does not match the schema. */
export function decodeRequest(body: string | undefined): RequestMessage | undefined {
  return parseJson(body, requestMessageSchema);
}

export function decodeResponse(body: string | undefined): ResponseMessage | undefined {
  return parseJson(body, responseMessageSchema);
}

function parseJson<T>(body: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (body === undefined) return undefined;
  try {
    const result = schema.safeParse(JSON.parse(body));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The out-bucket's key spaces, one per kind of stored result, so that no request can overwrite another kind's
 * object: a recognition's label at `<stem>` (the course's contract: the grader reads it there), a video's roster at
 * `rosters/<stem>.csv`, the sentence of a refused video at `refusals/<stem>.txt`. A stem never holds a "/"
 * (safeFileName keeps the last path segment), so no label lands in the other two: an image uploaded as
 * `good.csv.jpg` writes its label at `good.csv`, beside the roster `rosters/good.csv`, not over it.
 */
export const labelKey = (stem: string): string => stem;
export const ROSTERS_PREFIX = 'rosters/';
export const rosterKey = (stem: string): string => `${ROSTERS_PREFIX}${stem}.csv`;
export const REFUSALS_PREFIX = 'refusals/';
export const refusalKey = (stem: string): string => `${REFUSALS_PREFIX}${stem}.txt`;

/**
 * Turns a client-supplied file name into a safe label: the last path segment, control characters removed,
 * at most MAX_FILE_NAME_CHARS characters. It is never used as a path.
 */
export function safeFileName(original: string | undefined): string {
  const base = (original ?? '').split(/[/\\]/).pop() ?? '';
  // Every control character (C0, DEL and C1, NEL U+0085 among them) goes; so do the invisible characters that
  // would make a label read as another (names-and-faces.ts refuses them in names), except the joiners of emoji
  // sequences and of Persian and Indic script.
  const clean = base.replace(/\p{Cc}|(?![\u200c\u200d])[\p{Default_Ignorable_Code_Point}\u2800]/gu, '').trim();
  return [...(clean || 'upload')].slice(0, MAX_FILE_NAME_CHARS).join('');
}

/**
 * The in-bucket key of an upload: unique per request, with as much of the file name as KEY_NAME_MAX_BYTES
 * holds once encoded for the queue (an emoji takes 12 bytes there, a CJK character 3), cut between characters.
 */
export function inBucketKey(prefix: string, fileName: string): string {
  let cut = '';
  let bytes = 0;
  for (const ch of fileName) {
    const size = Buffer.byteLength(sqsSafeJson(ch)) - 2;
    if (bytes + size > KEY_NAME_MAX_BYTES) break;
    cut += ch;
    bytes += size;
  }
  return `${prefix}/${cut || 'upload'}`;
}

/** The whole file name as the in-bucket object's metadata carries it: S3 metadata values are ASCII. */
export function encodeFileNameMetadata(fileName: string): string {
  return Buffer.from(fileName, 'utf8').toString('base64url');
}

/** The file name from the object's metadata; undefined when it is absent or not what we wrote. */
export function decodeFileNameMetadata(value: string | undefined): string | undefined {
  if (!value || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const name = Buffer.from(value, 'base64url').toString('utf8');
  return name.length > 0 && !name.includes('\uFFFD') ? name : undefined;
}

/** The file name without its last extension ("test_00.jpg" → "test_00"); the whole name if that is empty. */
export function fileStem(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}
