/**
 * The messages between the tiers, versioned and schema-checked on both ends. A request message carries only
 * ids and the S3 key: the course's request queue has MaximumMessageSize = 1024 bytes.
 */
import { z } from 'zod';
import { ERROR_CATALOGUE, type ErrorCode } from './errors.js';

export const MESSAGE_VERSION = 2 as const;
/** The course's request queue sets MaximumMessageSize to 1024 bytes; every request message must fit. */
export const MAX_REQUEST_MESSAGE_BYTES = 1024;
/** File names are trimmed to this many characters so that the request message stays under its limit. */
export const MAX_FILE_NAME_CHARS = 200;

const errorCodes = Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]];

export const requestMessageSchema = z.object({
  v: z.literal(MESSAGE_VERSION),
  requestId: z.uuid(),
  /** Key of the uploaded image in the in-bucket. */
  key: z.string().min(1).max(400),
  /** The upload's file name without its extension: the answer's prefix and the out-bucket key. */
  stem: z.string().min(1).max(MAX_FILE_NAME_CHARS),
  /** When the web tier accepted the upload, epoch milliseconds. */
  sentAt: z.number().int().nonnegative(),
  /** `recognize` matches faces against the gallery; `enroll` only embeds them, for the enrollment API. */
  task: z.enum(['recognize', 'enroll']).default('recognize'),
  /** `subject`: only the most prominent face (a plain-text answer); `all`: every face (a JSON answer). */
  faces: z.enum(['subject', 'all']).default('subject'),
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
});
export type FaceResult = z.infer<typeof faceResultSchema>;

export const responseMessageSchema = z.discriminatedUnion('status', [
  z.object({
    v: z.literal(MESSAGE_VERSION),
    status: z.literal('ok'),
    requestId: z.uuid(),
    stem: z.string(),
    workerId: z.string(),
    task: z.enum(['recognize', 'enroll']),
    /** Size of the upright image, in pixels. */
    image: z.object({ width: z.number().int(), height: z.number().int() }),
    /** Faces detected; `faces` lists the first of them, most prominent first. */
    facesFound: z.number().int().nonnegative(),
    faces: z.array(faceResultSchema),
    /** Recognize: the most prominent face's label and similarity, the course's answer. */
    label: z.string().min(1).optional(),
    similarity: z.number().optional(),
    /** Recognize: the version of the gallery the faces were matched against. */
    galleryVersion: z.number().int().nonnegative().optional(),
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

export function encodeRequest(message: z.input<typeof requestMessageSchema>): string {
  const body = JSON.stringify(requestMessageSchema.parse(message));
  if (Buffer.byteLength(body) > MAX_REQUEST_MESSAGE_BYTES) {
    throw new RangeError(`request message is ${Buffer.byteLength(body)} bytes, over ${MAX_REQUEST_MESSAGE_BYTES}`);
  }
  return body;
}

export function encodeResponse(message: ResponseMessage): string {
  return JSON.stringify(responseMessageSchema.parse(message));
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
 * Turns a client-supplied file name into a safe label: the last path segment, control characters removed,
 * at most MAX_FILE_NAME_CHARS characters. It is never used as a path.
 */
export function safeFileName(original: string | undefined): string {
  const base = (original ?? '').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return [...(clean || 'upload')].slice(0, MAX_FILE_NAME_CHARS).join('');
}

/** The file name without its last extension ("test_00.jpg" → "test_00"); the whole name if that is empty. */
export function fileStem(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}
