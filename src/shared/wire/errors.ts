/**
 * The error catalogue: every failure the service reports has a stable code, an HTTP status, whether the
 * queue should retry it, and a one-sentence message a person understands. One place (the web tier's error
 * handler) turns these into responses; workers put the code in the response message.
 */

import { z } from 'zod';
import { FORMAT_NAMES } from './image-formats.js';

/** A parameter's value as a message (and a response message between the tiers) carries it. */
type ParamValue = string | number;
type ParamShape = Record<string, z.ZodType<ParamValue | undefined>>;

interface ErrorSpec<P> {
  readonly status: number;
  /** True when trying again later may succeed (a dependency hiccup), false when the input itself is at fault. */
  readonly retryable: boolean;
  /** The parameters the message needs, checked where they arrive from another tier. */
  readonly params: z.ZodType<P>;
  readonly message: (p: P) => string;
}

/** Declares one error: its parameters' types come from their schema, so its message cannot print "undefined". */
function error<S extends ParamShape = Record<never, never>>(spec: {
  status: number;
  retryable: boolean;
  params?: S;
  message: (p: z.infer<z.ZodObject<S>>) => string;
}): ErrorSpec<z.infer<z.ZodObject<S>>> {
  return { ...spec, params: z.object(spec.params ?? ({} as S)) as unknown as z.ZodType<z.infer<z.ZodObject<S>>> };
}

const text = z.string();
const count = z.number();
const optionalText = z.string().optional();

const duration = (seconds: number) =>
  seconds >= 3600
    ? `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`
    : seconds >= 60
      ? `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`
      : `${seconds} s`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes % 1048576 ? 1 : 0)} MiB`;

export const ERROR_CATALOGUE = {
  MISSING_FILE: error({
    status: 400,
    retryable: false,
    message: () => 'No image was uploaded: send it as multipart/form-data in a file field named "inputFile".',
  }),
  UNEXPECTED_FIELD: error({
    status: 400,
    retryable: false,
    params: { field: text },
    message: (p) => `Unexpected file field "${p.field}": send exactly one image in a field named "inputFile".`,
  }),
  TOO_MANY_FILES: error({
    status: 400,
    retryable: false,
    params: { limit: count },
    message: (p) =>
      `This request carries more than ${p.limit} file(s); send exactly one image in a field named "inputFile".`,
  }),
  MALFORMED_UPLOAD: error({
    status: 400,
    retryable: false,
    message: () => 'The multipart/form-data body could not be read: it is malformed or was cut off.',
  }),
  EMPTY_FILE: error({
    status: 400,
    retryable: false,
    params: { file: text },
    message: (p) => `The uploaded file "${p.file}" is empty.`,
  }),
  FILE_TOO_LARGE: error({
    status: 413,
    retryable: false,
    params: { limitBytes: count },
    message: (p) => `The uploaded file is larger than the ${mib(p.limitBytes)} upload limit.`,
  }),
  NOT_AN_IMAGE: error({
    status: 415,
    retryable: false,
    params: { file: text },
    message: (p) => `The uploaded file "${p.file}" is not a ${FORMAT_NAMES} image.`,
  }),
  INVALID_IMAGE: error({
    status: 400,
    retryable: false,
    params: { file: optionalText },
    message: (p) => `The image "${p.file ?? 'upload'}" is damaged or truncated and cannot be decoded.`,
  }),
  IMAGE_TOO_LARGE: error({
    status: 413,
    retryable: false,
    params: { width: count, height: count, limitPixels: count },
    message: (p) => `The image declares ${p.width}x${p.height} pixels, more than the limit of ${p.limitPixels} pixels.`,
  }),
  NO_FACE: error({
    status: 422,
    retryable: false,
    params: { file: optionalText },
    message: (p) => `No face was found in the image "${p.file ?? 'upload'}".`,
  }),
  GALLERY_EMPTY: error({
    status: 503,
    retryable: false,
    message: () => 'No people are enrolled yet: enroll a gallery first (npm run enroll).',
  }),
  COLLECTION_NOT_FOUND: error({
    status: 404,
    retryable: false,
    params: { name: text },
    message: (p) => `There is no collection named "${p.name}": create it first (POST /collections/${p.name}).`,
  }),
  COLLECTION_EXISTS: error({
    status: 409,
    retryable: false,
    params: { name: text },
    message: (p) => `A collection named "${p.name}" already exists.`,
  }),
  COLLECTION_EMPTY: error({
    status: 503,
    retryable: false,
    params: { name: text },
    message: (p) => `Nobody is enrolled in the collection "${p.name}" yet: enroll people in it first.`,
  }),
  INVALID_COLLECTION: error({
    status: 400,
    retryable: false,
    params: { name: text, max: count },
    message: (p) =>
      `"${p.name}" is not a valid collection name: use 1 to ${p.max} letters, digits, underscores, dots or ` +
      `hyphens, starting with a letter or digit.`,
  }),
  INVALID_PAGE_LIMIT: error({
    status: 400,
    retryable: false,
    params: { max: count },
    message: (p) => `limit must be a whole number from 1 to ${p.max}.`,
  }),
  INVALID_NAME: error({
    status: 400,
    retryable: false,
    params: { name: text, max: count },
    message: (p) =>
      `"${p.name}" is not a valid name: use 1 to ${p.max} letters, digits, spaces, dots, hyphens, ` +
      `apostrophes or underscores, starting with a letter or digit.`,
  }),
  RESERVED_NAME: error({
    status: 400,
    retryable: false,
    params: { name: text },
    message: (p) => `"${p.name}" is reserved: it is the answer for faces that match nobody.`,
  }),
  CONFUSABLE_NAME: error({
    status: 400,
    retryable: false,
    params: { name: text, existing: text },
    message: (p) =>
      `"${p.name}" reads as "${p.existing}", who is already enrolled: add faces under "${p.existing}", ` +
      `or choose a clearly different name.`,
  }),
  PHOTO_ENROLLED_ELSEWHERE: error({
    status: 409,
    retryable: false,
    params: { file: text, person: text, id: text },
    message: (p) =>
      `The photo "${p.file}" is already enrolled for "${p.person}" (face ${p.id}); remove it there first.`,
  }),
  PHOTO_COPY_ENROLLED_ELSEWHERE: error({
    status: 409,
    retryable: false,
    params: { file: text, person: text, similarity: count },
    message: (p) =>
      `The face in "${p.file}" is a copy of a photo already enrolled for "${p.person}" (similarity ${p.similarity}); remove it there first, or enroll another photo.`,
  }),
  PERSON_NOT_FOUND: error({
    status: 404,
    retryable: false,
    params: { name: text },
    message: (p) => `Nobody named "${p.name}" is enrolled.`,
  }),
  FACE_NOT_FOUND: error({
    status: 404,
    retryable: false,
    params: { name: text, faceId: text },
    message: (p) => `"${p.name}" has no enrolled face with the id "${p.faceId}".`,
  }),
  NO_IMAGES: error({
    status: 400,
    retryable: false,
    params: { max: count },
    message: (p) => `No image was uploaded: send 1 to ${p.max} images as multipart/form-data file fields.`,
  }),
  TOO_MANY_IMAGES: error({
    status: 400,
    retryable: false,
    params: { max: count },
    message: (p) => `Too many images: send at most ${p.max} per request.`,
  }),
  ENROLL_NO_FACE: error({
    status: 422,
    retryable: false,
    params: { file: text },
    message: (p) => `No face was found in "${p.file}": enroll photos that show the person's face clearly.`,
  }),
  ENROLL_MANY_FACES: error({
    status: 422,
    retryable: false,
    params: { file: text, faces: count, largest: count, next: count, dominance: count },
    message: (p) =>
      `"${p.file}" shows ${p.faces} faces and none is clearly the person's: the largest is ${p.largest} px wide, ` +
      `the next ${p.next} px. Enroll a photo in which this person's face is at least ${p.dominance} times as ` +
      `wide as any other, or crop it.`,
  }),
  ENROLL_FACE_TOO_SMALL: error({
    status: 422,
    retryable: false,
    params: { file: text, width: count, min: count },
    message: (p) =>
      `The face in "${p.file}" is ${p.width} px wide, too small to recognise: enroll a photo in which it is at ` +
      `least ${p.min} px wide.`,
  }),
  ENROLL_FACE_BLURRED: error({
    status: 422,
    retryable: false,
    params: { file: text, sharpness: count, min: count },
    message: (p) =>
      `The face in "${p.file}" is too blurred to recognise (sharpness ${p.sharpness}; ${p.min} is the least ` +
      `enrolled): enroll a sharper photo.`,
  }),
  API_KEY_MISSING: error({
    status: 401,
    retryable: false,
    message: () => 'This needs the API key: send it in an X-API-Key header (or as Authorization: Bearer <key>).',
  }),
  API_KEY_WRONG: error({
    status: 403,
    retryable: false,
    message: () => 'The API key is wrong.',
  }),
  ENROLLMENT_DISABLED: error({
    status: 403,
    retryable: false,
    message: () => 'The enrollment API is off on this server: its operator has to set API_KEY to turn it on.',
  }),
  VIDEOS_NEED_KEY: error({
    status: 403,
    retryable: false,
    message: () =>
      'Videos are answered with students’ records, so they need the API key, and this server has none: its operator has to set API_KEY (or VIDEOS_REQUIRE_KEY=false).',
  }),
  GALLERY_BUSY: error({
    status: 503,
    retryable: true,
    params: { attempts: count },
    message: (p) => `The gallery changed under us ${p.attempts} times in a row; please try again.`,
  }),
  GALLERY_MODEL_MISMATCH: error({
    status: 500,
    retryable: false,
    message: () =>
      'The stored gallery was made with another embedder model: re-enroll everyone (npm run enroll) first.',
  }),
  IMAGE_GONE: error({
    status: 410,
    retryable: false,
    message: () => 'The uploaded image is no longer stored (its client left, or it expired); send it again.',
  }),
  RECOGNITION_FAILED: error({
    status: 502,
    retryable: false,
    params: { attempts: count },
    message: (p) => `Recognition failed after ${p.attempts ?? 'several'} attempts; please try again later.`,
  }),
  RESULT_TIMEOUT: error({
    status: 504,
    retryable: true,
    params: { seconds: count },
    message: (p) => `No result arrived within ${p.seconds} seconds; the workers may be busy or starting, try again.`,
  }),
  STORAGE_UNAVAILABLE: error({
    status: 503,
    retryable: true,
    message: () => 'The image could not be stored or queued right now; please try again shortly.',
  }),
  UPLOAD_TIMEOUT: error({
    status: 408,
    retryable: true,
    params: { seconds: count },
    message: (p) =>
      `The request did not arrive within ${p.seconds} seconds, so it was dropped; send it again (on a slow link, a smaller image).`,
  }),
  HEADERS_TIMEOUT: error({
    status: 408,
    retryable: true,
    params: { seconds: count },
    message: (p) =>
      `The request's headers did not arrive within ${p.seconds} seconds, so it was dropped; send it again.`,
  }),
  HEADERS_TOO_LARGE: error({
    status: 431,
    retryable: false,
    params: { limitKiB: count },
    message: (p) =>
      `The request's headers are larger than the ${p.limitKiB} KiB the server reads; send fewer or shorter headers.`,
  }),
  TOO_MANY_CONNECTIONS: error({
    status: 503,
    retryable: true,
    params: { limit: count },
    message: (p) => `The server has ${p.limit} connections open, its limit; try again in a second.`,
  }),
  TOO_MANY_UPLOADS: error({
    status: 503,
    retryable: true,
    params: { limit: count },
    message: (p) =>
      `${p.limit} uploads are already arriving, the most the server takes at once; try again in a second.`,
  }),
  UPLOAD_MEMORY_FULL: error({
    status: 503,
    retryable: true,
    params: { limitMiB: count },
    message: (p) =>
      `The uploads already arriving hold ${p.limitMiB} MiB, the most the server buffers at once; try again in a second.`,
  }),
  BAD_PATH: error({
    status: 400,
    retryable: false,
    params: { path: text },
    message: (p) => `The path "${p.path}" is not valid percent-encoding (a "%" must be followed by two hex digits).`,
  }),
  BAD_HTTP: error({
    status: 400,
    retryable: false,
    message: () => 'The request is not valid HTTP/1.1.',
  }),
  SHUTTING_DOWN: error({
    status: 503,
    retryable: true,
    message: () => 'The service is shutting down and accepts no new requests; please try again shortly.',
  }),
  REPORTS_INVALID: error({
    status: 400,
    retryable: false,
    params: { reason: text },
    message: (p) => `The reports were refused, none was stored: ${p.reason}.`,
  }),
  REPORTS_TOO_LARGE: error({
    status: 413,
    retryable: false,
    params: { limitBytes: count },
    message: (p) => `The batch of reports is larger than ${Math.round(p.limitBytes / 1024)} KiB; send smaller batches.`,
  }),
  TOO_MANY_REPORTS: error({
    status: 429,
    retryable: true,
    params: { limit: count },
    message: (p) =>
      `This client sent more than ${p.limit} batches of reports in the last minute; they were dropped. Send fewer, larger batches.`,
  }),
  TOO_MANY_REPORTS_STORED: error({
    status: 429,
    retryable: true,
    params: { limit: count },
    message: (p) =>
      `This client stored ${p.limit} reports in the last minute, the most one client may; this batch was dropped. Report less often.`,
  }),
  BAD_QUERY: error({
    status: 400,
    retryable: false,
    params: { reason: text },
    message: (p) => `The query is not valid: ${p.reason}.`,
  }),
  MONITOR_UNAVAILABLE: error({
    status: 503,
    retryable: true,
    params: { reason: text },
    message: (p) => `The monitoring server is not available (${p.reason}).`,
  }),
  AUTOSCALER_UNAVAILABLE: error({
    status: 503,
    retryable: true,
    params: { reason: text },
    message: (p) => `The autoscaler's status is not available (${p.reason}); try again in a few seconds.`,
  }),
  NOT_FOUND: error({
    status: 404,
    retryable: false,
    params: { path: text },
    message: (p) => `There is no ${p.path} here; POST images to /.`,
  }),
  METHOD_NOT_ALLOWED: error({
    status: 405,
    retryable: false,
    params: { method: text, path: text, allow: text },
    message: (p) => `${p.method} is not allowed on ${p.path}; use ${p.allow}.`,
  }),
  NOT_A_VIDEO: error({
    status: 415,
    retryable: false,
    params: { file: optionalText },
    message: (p) => `The uploaded file "${p.file ?? 'upload'}" is not an MP4, MOV or WebM video.`,
  }),
  VIDEO_UNREADABLE: error({
    status: 422,
    retryable: false,
    params: { file: optionalText, reason: text },
    message: (p) =>
      `The video "${p.file ?? 'upload'}" is damaged or truncated and cannot be read (${p.reason.slice(0, 200)}).`,
  }),
  VIDEO_NO_PICTURE: error({
    status: 422,
    retryable: false,
    params: { file: optionalText },
    message: (p) =>
      `The file "${p.file ?? 'upload'}" holds no picture (an empty recording, or sound only), so there is nobody to see.`,
  }),
  VIDEO_TOO_LARGE: error({
    status: 413,
    retryable: false,
    params: { limitBytes: count },
    message: (p) => `The video is larger than the ${mib(p.limitBytes)} limit for videos.`,
  }),
  VIDEO_TOO_LONG: error({
    status: 422,
    retryable: false,
    params: { file: optionalText, seconds: count, limitSeconds: count },
    message: (p) =>
      `The video "${p.file ?? 'upload'}" lasts ${duration(p.seconds)}, longer than the ${duration(p.limitSeconds)} limit; send a shorter cut.`,
  }),
  VIDEO_RESOLUTION_TOO_HIGH: error({
    status: 422,
    retryable: false,
    params: { file: optionalText, width: count, height: count, limit: count },
    message: (p) =>
      `The video "${p.file ?? 'upload'}" is ${p.width}x${p.height} pixels; its longest side may be at most ${p.limit}. Scale it down and send it again.`,
  }),
  VIDEO_NO_FRAMES: error({
    status: 422,
    retryable: false,
    params: { file: optionalText },
    message: (p) => `The video "${p.file ?? 'upload'}" has no frame to look at.`,
  }),
  VIDEO_TRUNCATED: error({
    status: 422,
    retryable: false,
    params: { file: optionalText, seconds: count, declaredSeconds: count },
    message: (p) =>
      `The video "${p.file ?? 'upload'}" stops after ${p.seconds} s though its header says ${p.declaredSeconds} s: it is truncated; send the whole file.`,
  }),
  VIDEO_NO_FACES: error({
    status: 422,
    retryable: false,
    params: { file: optionalText, frames: count },
    message: (p) => `No face was found in the ${p.frames} frame(s) looked at in the video "${p.file ?? 'upload'}".`,
  }),
  VIDEO_DECODE_TIMEOUT: error({
    status: 422,
    retryable: false,
    params: { file: optionalText, seconds: count },
    message: (p) =>
      `Decoding the video "${p.file ?? 'upload'}" took longer than ${p.seconds} s, so it was stopped; send a shorter or smaller video.`,
  }),
  VIDEO_TOOLS_MISSING: error({
    status: 503,
    retryable: false,
    params: { detail: text },
    message: (p) => `Videos cannot be read here: ${p.detail}.`,
  }),
  STUDENT_RECORDS_UNAVAILABLE: error({
    status: 503,
    retryable: true,
    message: () => 'The student records could not be read right now; please try again shortly.',
  }),
  MODELS_MISSING: error({
    status: 500,
    retryable: false,
    params: { detail: text },
    message: (p) =>
      `The recognition models are missing (${p.detail}): run "npm run fetch-models" (it needs the npm registry).`,
  }),
  INTERNAL: error({
    status: 500,
    retryable: true,
    message: () => 'Something went wrong on our side; please try again.',
  }),
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
/** The parameters an error's message needs. */
export type ErrorParams<C extends ErrorCode> = (typeof ERROR_CATALOGUE)[C] extends ErrorSpec<infer P> ? P : never;
/** `params` may be left out where the error needs none. */
type ParamsArgs<C extends ErrorCode> =
  Record<never, never> extends ErrorParams<C>
    ? [params?: ErrorParams<C>, cause?: unknown]
    : [params: ErrorParams<C>, cause?: unknown];

export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly status: number;
  readonly retryable: boolean;
  readonly params: Readonly<Record<string, ParamValue>>;

  constructor(code: C, ...[params, cause]: ParamsArgs<C>) {
    const spec = ERROR_CATALOGUE[code] as ErrorSpec<unknown>;
    const values = (params ?? {}) as Record<string, ParamValue>;
    super(spec.message(values), cause === undefined ? undefined : { cause });
    this.name = 'AppError';
    this.code = code;
    this.status = spec.status;
    this.retryable = spec.retryable;
    this.params = values;
  }

  /**
   * An error that another tier reported by code and parameters (a worker's response message). Its
   * parameters are checked against the catalogue: parameters that do not fit (a worker of another version)
   * give a 500 with the worker's code in the log, never a sentence with "undefined" in it.
   */
  static fromReport(code: ErrorCode, params: Readonly<Record<string, ParamValue>>, cause?: unknown): AppError {
    const checked = ERROR_CATALOGUE[code].params.safeParse(params);
    if (!checked.success) {
      return new AppError('INTERNAL', {}, new Error(`error ${code} arrived with parameters ${JSON.stringify(params)}`));
    }
    return new (AppError as new (code: ErrorCode, params: unknown, cause?: unknown) => AppError)(
      code,
      checked.data,
      cause,
    );
  }
}

/** No result came for a request before its deadline (the web tier's response router); answered as RESULT_TIMEOUT. */
export class ResultTimeoutError extends Error {
  constructor(readonly requestId: string) {
    super(`no result for ${requestId} before its deadline`);
    this.name = 'ResultTimeoutError';
  }
}
