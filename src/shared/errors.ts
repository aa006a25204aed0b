/**
 * The error catalogue: every failure the service reports has a stable code, an HTTP status, whether the
 * queue should retry it, and a one-sentence message a person understands. One place (the web tier's error
 * handler) turns these into responses; workers put the code in the response message.
 */

type Params = Record<string, string | number>;

interface ErrorSpec {
  readonly status: number;
  /** True when trying again later may succeed (a dependency hiccup), false when the input itself is at fault. */
  readonly retryable: boolean;
  readonly message: (p: Params) => string;
}

const mib = (bytes: string | number) => `${(Number(bytes) / 1024 / 1024).toFixed(Number(bytes) % 1048576 ? 1 : 0)} MiB`;

export const ERROR_CATALOGUE = {
  MISSING_FILE: {
    status: 400,
    retryable: false,
    message: () => 'No image was uploaded: send it as multipart/form-data in a file field named "inputFile".',
  },
  UNEXPECTED_FIELD: {
    status: 400,
    retryable: false,
    message: (p) => `Unexpected file field "${p['field']}": send exactly one image in a field named "inputFile".`,
  },
  TOO_MANY_FILES: {
    status: 400,
    retryable: false,
    message: (p) =>
      `This request carries more than ${p['limit']} file(s); send exactly one image in a field named "inputFile".`,
  },
  MALFORMED_UPLOAD: {
    status: 400,
    retryable: false,
    message: () => 'The multipart/form-data body could not be read: it is malformed or was cut off.',
  },
  EMPTY_FILE: { status: 400, retryable: false, message: (p) => `The uploaded file "${p['file']}" is empty.` },
  FILE_TOO_LARGE: {
    status: 413,
    retryable: false,
    message: (p) => `The uploaded file is larger than the ${mib(p['limitBytes'] ?? 0)} upload limit.`,
  },
  NOT_AN_IMAGE: {
    status: 415,
    retryable: false,
    message: (p) => `The uploaded file "${p['file']}" is not a JPEG, PNG or WebP image.`,
  },
  INVALID_IMAGE: {
    status: 400,
    retryable: false,
    message: (p) => `The image "${p['file'] ?? 'upload'}" is damaged or truncated and cannot be decoded.`,
  },
  IMAGE_TOO_LARGE: {
    status: 413,
    retryable: false,
    message: (p) =>
      `The image declares ${p['width']}x${p['height']} pixels, more than the limit of ${p['limitPixels']} pixels.`,
  },
  NO_FACE: {
    status: 422,
    retryable: false,
    message: (p) => `No face was found in the image "${p['file'] ?? 'upload'}".`,
  },
  GALLERY_EMPTY: {
    status: 503,
    retryable: false,
    message: () => 'No people are enrolled yet: enroll a gallery first (npm run enroll).',
  },
  INVALID_NAME: {
    status: 400,
    retryable: false,
    message: (p) =>
      `"${p['name']}" is not a valid name: use 1 to ${p['max']} letters, digits, spaces, dots, hyphens, ` +
      `apostrophes or underscores, starting with a letter or digit.`,
  },
  RESERVED_NAME: {
    status: 400,
    retryable: false,
    message: (p) => `"${p['name']}" is reserved: it is the answer for faces that match nobody.`,
  },
  CONFUSABLE_NAME: {
    status: 400,
    retryable: false,
    message: (p) =>
      `"${p['name']}" reads as "${p['existing']}", who is already enrolled: add faces under "${p['existing']}", ` +
      `or choose a clearly different name.`,
  },
  PHOTO_ENROLLED_ELSEWHERE: {
    status: 409,
    retryable: false,
    message: (p) =>
      `The photo "${p['file']}" is already enrolled for "${p['person']}" (face ${p['id']}); remove it there first.`,
  },
  PERSON_NOT_FOUND: { status: 404, retryable: false, message: (p) => `Nobody named "${p['name']}" is enrolled.` },
  FACE_NOT_FOUND: {
    status: 404,
    retryable: false,
    message: (p) => `"${p['name']}" has no enrolled face with the id "${p['faceId']}".`,
  },
  NO_IMAGES: {
    status: 400,
    retryable: false,
    message: (p) => `No image was uploaded: send 1 to ${p['max']} images as multipart/form-data file fields.`,
  },
  TOO_MANY_IMAGES: {
    status: 400,
    retryable: false,
    message: (p) => `Too many images: send at most ${p['max']} per request.`,
  },
  ENROLL_NO_FACE: {
    status: 422,
    retryable: false,
    message: (p) => `No face was found in "${p['file']}": enroll photos that show the person's face clearly.`,
  },
  ENROLL_MANY_FACES: {
    status: 422,
    retryable: false,
    message: (p) =>
      `"${p['file']}" shows ${p['faces']} faces: enroll photos that show only this person, so the right face is ` +
      `enrolled.`,
  },
  API_KEY_MISSING: {
    status: 401,
    retryable: false,
    message: () => 'This needs the API key: send it in an X-API-Key header (or as Authorization: Bearer <key>).',
  },
  API_KEY_WRONG: { status: 403, retryable: false, message: () => 'The API key is wrong.' },
  ENROLLMENT_DISABLED: {
    status: 403,
    retryable: false,
    message: () => 'The enrollment API is off on this server: its operator has to set API_KEY to turn it on.',
  },
  GALLERY_BUSY: {
    status: 503,
    retryable: true,
    message: (p) => `The gallery changed under us ${p['attempts']} times in a row; please try again.`,
  },
  GALLERY_MODEL_MISMATCH: {
    status: 500,
    retryable: false,
    message: () =>
      'The stored gallery was made with another embedder model: re-enroll everyone (npm run enroll) first.',
  },
  IMAGE_GONE: {
    status: 410,
    retryable: false,
    message: () => 'The uploaded image is no longer stored (its client left, or it expired); send it again.',
  },
  RECOGNITION_FAILED: {
    status: 502,
    retryable: false,
    message: (p) => `Recognition failed after ${p['attempts'] ?? 'several'} attempts; please try again later.`,
  },
  RESULT_TIMEOUT: {
    status: 504,
    retryable: true,
    message: (p) => `No result arrived within ${p['seconds']} seconds; the workers may be busy or starting, try again.`,
  },
  STORAGE_UNAVAILABLE: {
    status: 503,
    retryable: true,
    message: () => 'The image could not be stored or queued right now; please try again shortly.',
  },
  UPLOAD_TIMEOUT: {
    status: 408,
    retryable: true,
    message: (p) =>
      `The request did not arrive within ${p['seconds']} seconds, so it was dropped; send it again (on a slow link, a smaller image).`,
  },
  TOO_MANY_CONNECTIONS: {
    status: 503,
    retryable: true,
    message: (p) => `The server has ${p['limit']} connections open, its limit; try again in a second.`,
  },
  TOO_MANY_UPLOADS: {
    status: 503,
    retryable: true,
    message: (p) =>
      `${p['limit']} uploads are already arriving, the most the server takes at once; try again in a second.`,
  },
  UPLOAD_MEMORY_FULL: {
    status: 503,
    retryable: true,
    message: (p) =>
      `The uploads already arriving hold ${p['limitMiB']} MiB, the most the server buffers at once; try again in a second.`,
  },
  BAD_PATH: {
    status: 400,
    retryable: false,
    message: (p) => `The path "${p['path']}" is not valid percent-encoding (a "%" must be followed by two hex digits).`,
  },
  BAD_HTTP: {
    status: 400,
    retryable: false,
    message: () => 'The request is not valid HTTP/1.1.',
  },
  SHUTTING_DOWN: {
    status: 503,
    retryable: true,
    message: () => 'The service is shutting down and accepts no new requests; please try again shortly.',
  },
  AUTOSCALER_UNAVAILABLE: {
    status: 503,
    retryable: true,
    message: (p) => `The autoscaler's status is not available (${p['reason']}); try again in a few seconds.`,
  },
  NOT_FOUND: { status: 404, retryable: false, message: (p) => `There is no ${p['path']} here; POST images to /.` },
  METHOD_NOT_ALLOWED: {
    status: 405,
    retryable: false,
    message: (p) => `${p['method']} is not allowed on ${p['path']}; use ${p['allow']}.`,
  },
  MODELS_MISSING: {
    status: 500,
    retryable: false,
    message: (p) =>
      `The recognition models are missing (${p['detail']}): run "npm run fetch-models" (it needs the npm registry).`,
  },
  INTERNAL: { status: 500, retryable: true, message: () => 'Something went wrong on our side; please try again.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly params: Params;

  constructor(code: ErrorCode, params: Params = {}, cause?: unknown) {
    const spec: ErrorSpec = ERROR_CATALOGUE[code];
    super(spec.message(params), cause === undefined ? undefined : { cause });
    this.name = 'AppError';
    this.code = code;
    this.status = spec.status;
    this.retryable = spec.retryable;
    this.params = params;
  }
}
