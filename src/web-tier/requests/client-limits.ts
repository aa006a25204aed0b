/**
 * Limits on what clients send, so that no client can hold the web tier's sockets or memory by sending slowly
 * or opening many connections: a deadline for the headers and one for the whole upload (Node's own
 * `headersTimeout` and `requestTimeout`, which stop counting once the request has arrived, so the wait for a
 * result is not cut), a cap on open connections and one on uploads arriving at once. Every refusal is an
 * answer with the catalogue's status and sentence, never a silently dropped socket, and is logged as the
 * client's doing (info), not ours.
 */
import { maxHeaderSize, STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import { ERROR_CODE_HEADER } from '../../shared/wire/answer-metrics.js';
import { AppError } from '../../shared/wire/errors.js';
import type { Logger } from '../../shared/logger.js';

/** Seconds a refused client is asked to wait before trying again. */
export const RETRY_AFTER_SECONDS = 1;

export interface ClientLimits {
  readonly headersTimeoutSeconds: number;
  readonly uploadTimeoutSeconds: number;
  readonly maxConnections: number;
  readonly maxConcurrentUploads: number;
  /** Bytes that uploads arriving at once may hold, each counted at its declared length. */
  readonly maxUploadMemoryBytes: number;
  /** What an upload that declares no length is counted at. */
  readonly maxUploadBytes: number;
}

/** Node checks its deadlines on an interval; a quarter of the shortest deadline keeps the answer prompt. */
export function connectionsCheckingIntervalMs(limits: ClientLimits): number {
  return Math.max(100, Math.min(1000, (limits.headersTimeoutSeconds * 1000) / 4));
}

/** The metrics headers of an answer written straight to a socket (see answer-timer.ts). */
export type RawAnswerHeaders = (socket: Socket) => Record<string, string>;

/** A whole HTTP/1.1 response written straight to a socket: for refusals that happen before Express sees a request. */
export function rawResponse(error: AppError, headers: Record<string, string> = {}): string {
  const body = `${error.message}\n`;
  const lines = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    'X-Content-Type-Options: nosniff',
    `${ERROR_CODE_HEADER}: ${error.code}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Answers what Node's HTTP parser refuses before Express sees it: a request whose headers, or whole request, did
 * not arrive by their deadlines (408, naming the deadline that passed), headers larger than Node reads (431),
 * and what is not HTTP (400). Resets and other socket errors of clients that left are not answered.
 */
export function answerClientErrors(
  server: Server,
  limits: ClientLimits,
  logger: Logger,
  answerHeaders: RawAnswerHeaders,
): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? '';
    let error: AppError | undefined;
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT') {
      // Node reports both deadlines with one code; the parser holds a request once its headers have arrived.
      const headersArrived = Boolean((socket as Socket & { parser?: { incoming?: unknown } }).parser?.incoming);
      error = headersArrived
        ? new AppError('UPLOAD_TIMEOUT', { seconds: limits.uploadTimeoutSeconds })
        : new AppError('HEADERS_TIMEOUT', { seconds: limits.headersTimeoutSeconds });
    } else if (code === 'HPE_HEADER_OVERFLOW') {
      error = new AppError('HEADERS_TOO_LARGE', { limitKiB: Math.floor(maxHeaderSize / 1024) });
    } else if (code.startsWith('HPE_') && code !== 'HPE_INVALID_EOF_STATE') {
      error = new AppError('BAD_HTTP');
    }
    if (error && socket.writable) {
      logger.info({ code: error.code, reason: code, remote: socket.remoteAddress }, 'request rejected');
      socket.end(rawResponse(error, answerHeaders(socket)));
    }
    socket.destroy();
  });
}

/** Counts open connections and answers 503 with Retry-After to the ones past `maxConnections`. */
export function capConnections(
  server: Server,
  limits: ClientLimits,
  logger: Logger,
  answerHeaders: RawAnswerHeaders,
): void {
  let open = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
    if (open <= limits.maxConnections) return;
    const error = new AppError('TOO_MANY_CONNECTIONS', { limit: limits.maxConnections });
    logger.info({ code: error.code, open }, 'connection refused');
    socket.end(rawResponse(error, { ...answerHeaders(socket), 'Retry-After': String(RETRY_AFTER_SECONDS) }));
    socket.destroySoon();
  });
}

/**
 * Express middleware for routes that take uploads: at most `maxConcurrentUploads` request bodies are being
 * received at once, holding at most `maxUploadMemoryBytes` (each counted at its declared Content-Length, capped
 * at MAX_UPLOAD_BYTES, beyond which multer refuses it anyway); one more is refused with 503 and Retry-After
 * before its body is read. Its slot and bytes are freed when the body has arrived or the request is gone.
 */
export function uploadSlots(limits: ClientLimits): RequestHandler {
  let inUse = 0;
  let bytes = 0;
  return (req, res, next) => {
    const declared = Number(req.headers['content-length']);
    const size =
      Number.isSafeInteger(declared) && declared >= 0
        ? Math.min(declared, limits.maxUploadBytes)
        : limits.maxUploadBytes;
    const refusal =
      inUse >= limits.maxConcurrentUploads
        ? new AppError('TOO_MANY_UPLOADS', { limit: limits.maxConcurrentUploads })
        : bytes + size > limits.maxUploadMemoryBytes
          ? new AppError('UPLOAD_MEMORY_FULL', { limitMiB: Math.round(limits.maxUploadMemoryBytes / 2 ** 20) })
          : undefined;
    if (refusal) {
      res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      next(refusal);
      return;
    }
    inUse++;
    bytes += size;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inUse--;
      bytes -= size;
    };
    req.once('end', release);
    req.once('close', release);
    next();
  };
}
