/**
 * The one place that turns errors into HTTP responses: the catalogue's status and sentence, as plain text
 * for the course client and as JSON for clients that ask for it. Unknown errors become 500 and are logged.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { ERROR_CODE_HEADER } from '../shared/wire/answer-metrics.js';
import { AppError, ResultTimeoutError } from '../shared/wire/errors.js';
import type { Logger } from '../shared/logger.js';

export function wantsJson(req: Request): boolean {
  return req.accepts(['text/plain', 'application/json']) === 'application/json';
}

export function toAppError(err: unknown, limits: { resultTimeoutSeconds: number }, path = ''): AppError {
  if (err instanceof AppError) return err;
  // Express's router cannot decode a parameter such as "/people/%ZZ": the client's mistake.
  if (err instanceof URIError) return new AppError('BAD_PATH', { path: path.slice(0, 200) }, err);
  if (err instanceof ResultTimeoutError)
    return new AppError('RESULT_TIMEOUT', { seconds: limits.resultTimeoutSeconds }, err);
  return new AppError('INTERNAL', {}, err);
}

/** Answers every method but those a path allows with 405 and an Allow header. */
export function methodNotAllowed(allow: string): RequestHandler {
  // Named, so that a list of the app's routes can tell these from the routes that do something.
  return function methodNotAllowedHandler(req, _res, next) {
    next(new AppError('METHOD_NOT_ALLOWED', { method: req.method, path: req.path, allow }));
  };
}

export function sendError(req: Request, res: Response, error: AppError, requestId?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(error.status);
  // RFC 9110: a 401 names how to authenticate; the key goes as a bearer token or in X-API-Key.
  if (error.status === 401) res.set('WWW-Authenticate', 'Bearer realm="facefleet"');
  res.set('X-Content-Type-Options', 'nosniff');
  res.locals['errorCode'] = error.code;
  res.set(ERROR_CODE_HEADER, error.code);
  if (error.code === 'METHOD_NOT_ALLOWED') res.set('Allow', String(error.params['allow']));
  if (wantsJson(req)) {
    res.json({ error: { code: error.code, message: error.message, ...(requestId ? { requestId } : {}) } });
  } else {
    res.type('text/plain').send(error.message);
  }
}

/**
 * Refusals that shed load: the client is asked to try again in a second, nothing of ours failed, so they are
 * logged as the client's doing (info), like the refusals client-limits.ts answers on the socket.
 */
const SHEDDING: ReadonlySet<string> = new Set(['TOO_MANY_UPLOADS', 'UPLOAD_MEMORY_FULL', 'TOO_MANY_CONNECTIONS']);

export function errorHandler(logger: Logger, limits: { resultTimeoutSeconds: number }): ErrorRequestHandler {
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
    else if (error.status >= 500 && !SHEDDING.has(error.code))
      logger.warn({ requestId, code: error.code, reason: error.message }, 'request failed');
    else logger.info({ requestId, code: error.code, reason: error.message }, 'request rejected');
    // An upload refused part-way may still be streaming in: do not reuse this connection for another request.
    if (req.method === 'POST' && !req.complete) res.set('Connection', 'close');
    sendError(req, res, error, requestId);
  };
}
