/**
 * Multipart uploads, configured once for every route that takes images: held in memory (they go to S3
 * whole), file names read as UTF-8, and the parser's failures turned into the catalogue's errors by their
 * type: multer's `MulterError` by its code, and any other error out of the parser (busboy reports a cut-off
 * or garbled body as a plain `Error`) as a malformed upload, since that is the only thing the parser reads.
 */
import { tmpdir } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { AppError } from '../../shared/wire/errors.js';
import { fileStem, safeFileName } from '../../shared/wire/messages.js';
import { timerOf } from './answer-timer.js';

/** Text fields a form may carry besides its files, and their size: forms of curl and browsers need few. */
const MAX_FIELDS = 20;
const MAX_FIELD_BYTES = 64 * 1024;

export interface UploadOptions {
  /** Largest file accepted, in bytes (MAX_UPLOAD_BYTES). */
  readonly maxUploadBytes: number;
  /** One file in this field (the course's `inputFile`), or up to `maxFiles` files in any field. */
  readonly files: { readonly field: string } | { readonly maxFiles: number };
  /** The error for one file too many. */
  readonly tooManyFiles: () => AppError;
  /** Kept in a temporary file rather than in memory (videos); the route deletes it when done. */
  readonly toDisk?: boolean;
  /** The error for a file over `maxUploadBytes`; default FILE_TOO_LARGE. */
  readonly tooLarge?: () => AppError;
}

export function parseUpload(options: UploadOptions): RequestHandler {
  const maxFiles = 'field' in options.files ? 1 : options.files.maxFiles;
  const upload = multer({
    storage: options.toDisk ? multer.diskStorage({ destination: tmpdir() }) : multer.memoryStorage(),
    // Clients (curl, Python requests, browsers) send file names as raw UTF-8; multer would read them as latin1.
    defParamCharset: 'utf8',
    limits: {
      fileSize: options.maxUploadBytes,
      files: maxFiles,
      fields: MAX_FIELDS,
      // Fields and files, and a few parts to spare for what clients add (a charset field, say).
      parts: MAX_FIELDS + maxFiles + 10,
      fieldSize: MAX_FIELD_BYTES,
    },
  });
  const parse = 'field' in options.files ? upload.single(options.files.field) : upload.any();
  return (req, res, next) =>
    parse(req, res, (err: unknown) => next(err === undefined ? undefined : uploadError(err, req, options)));
}

function uploadError(err: unknown, req: Request, options: UploadOptions): unknown {
  // A client that left mid-upload: the parser's complaint is about its leaving; the error handler says so.
  if (req.readableAborted || req.socket.destroyed) return err;
  if (err instanceof AppError) return err;
  if (err instanceof multer.MulterError) {
    switch (err.code) {
      case 'LIMIT_FILE_SIZE':
        return options.tooLarge?.() ?? new AppError('FILE_TOO_LARGE', { limitBytes: options.maxUploadBytes }, err);
      case 'LIMIT_FILE_COUNT':
        return options.tooManyFiles();
      case 'LIMIT_UNEXPECTED_FILE':
        return new AppError('UNEXPECTED_FIELD', { field: err.field ?? 'unknown' }, err);
      default:
        return new AppError('MALFORMED_UPLOAD', {}, err);
    }
  }
  return new AppError('MALFORMED_UPLOAD', {}, err);
}

/**
 * The one file a route takes to the app tier, with the request's id (in the logs from here on), its timer, and
 * its file name made safe; MISSING_FILE when there is none.
 */
export function acceptedUpload(req: Request, res: Response) {
  const timer = timerOf(res);
  const requestId = randomUUID();
  res.locals['requestId'] = requestId;
  const file = req.file;
  if (!file) throw new AppError('MISSING_FILE');
  const fileName = safeFileName(file.originalname);
  return { timer, requestId, file, fileName, stem: fileStem(fileName) };
}
