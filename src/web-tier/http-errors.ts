/**
 * The one place that turns errors into HTTP responses: the catalogue's status and sentence, as plain text
 * for the course client and as JSON for clients that ask for it. Unknown errors become 500 and are logged.
 */
import type { ErrorRequestHandler, Request, Response } from 'express';
import multer from 'multer';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { ResultTimeoutError } from './response-router.js';

export function wantsJson(req: Request): boolean {
  return req.accepts(['text/plain', 'application/json']) === 'application/json';
}

export function toAppError(
  err: unknown,
  limits: { maxUploadBytes: number; resultTimeoutSeconds: number },
  path = '',
): AppError {
  if (err instanceof AppError) return err;
  // Express's router cannot decode a parameter such as "/people/%ZZ": the client's mistake.
  if (err instanceof URIError) return new AppError('BAD_PATH', { path: path.slice(0, 200) }, err);
  if (err instanceof ResultTimeoutError)
    return new AppError('RESULT_TIMEOUT', { seconds: limits.resultTimeoutSeconds }, err);
  if (err instanceof multer.MulterError) {
    switch (err.code) {
      case 'LIMIT_FILE_SIZE':
        return new AppError('FILE_TOO_LARGE', { limitBytes: limits.maxUploadBytes }, err);
      case 'LIMIT_FILE_COUNT':
        return new AppError('TOO_MANY_FILES', { limit: 1 }, err);
      case 'LIMIT_UNEXPECTED_FILE':
        return new AppError('UNEXPECTED_FIELD', { field: err.field ?? 'unknown' }, err);
      default:
        return new AppError('MALFORMED_UPLOAD', {}, err);
    }
  }
  // busboy reports a cut-off or garbled multipart body (a NUL byte in a part's header, say) as a plain Error.
  if (err instanceof Error && /multipart|Unexpected end of form|boundary|Malformed part header/i.test(err.message)) {
    return new AppError('MALFORMED_UPLOAD', {}, err);
  }
  return new AppError('INTERNAL', {}, err);
}

export function sendError(req: Request, res: Response, error: AppError, requestId?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(error.status);
  if (error.code === 'METHOD_NOT_ALLOWED') res.set('Allow', String(error.params['allow']));
  if (wantsJson(req)) {
    res.json({ error: { code: error.code, message: error.message, ...(requestId ? { requestId } : {}) } });
  } else {
    res.type('text/plain').send(error.message);
  }
}

export function errorHandler(
  logger: Logger,
  limits: { maxUploadBytes: number; resultTimeoutSeconds: number },
): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const requestId = res.locals['requestId'] as string | undefined;
    // A client that left (or was cut off at its upload deadline) mid-request: the parser's complaint is about
    // its leaving, nobody is there to answer, and it is not our fault.
    if (!(err instanceof AppError) && (req.readableAborted || req.socket.destroyed)) {
      logger.info({ requestId, reason: (err as Error).message }, 'the client left before its request arrived');
      res.destroy();
      return;
    }
    const error = toAppError(err, limits, req.path);
    if (error.code === 'INTERNAL') logger.error({ err, requestId }, 'request failed unexpectedly');
    else if (error.status >= 500) logger.warn({ requestId, code: error.code, reason: error.message }, 'request failed');
    else logger.info({ requestId, code: error.code, reason: error.message }, 'request rejected');
    // An upload refused part-way may still be streaming in: do not reuse this connection for another request.
    if (req.method === 'POST' && !req.complete) res.set('Connection', 'close');
    sendError(req, res, error, requestId);
  };
}
