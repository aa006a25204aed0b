/**
 * The enrollment API's key check: the key comes in an `X-API-Key` header or as `Authorization: Bearer <key>`.
 * No key: 401. A wrong key: 403. No key configured on the server: 403, the API is off. Keys are compared as
 * sha256 digests with a constant-time comparison, so the time taken says nothing about the key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { AppError } from '../../shared/wire/errors.js';

export function requireApiKey(
  apiKey: string | undefined,
  /** The refusal when the server has no key. */
  off: () => AppError = () => new AppError('ENROLLMENT_DISABLED'),
): RequestHandler {
  const expected = apiKey === undefined ? undefined : digest(apiKey);
  return (req, res, next) => {
    if (!expected) return next(off());
    const given = givenKey(req);
    // The 401's WWW-Authenticate is set where every error is answered (http-errors.ts).
    if (!given) return next(new AppError('API_KEY_MISSING'));
    if (!timingSafeEqual(digest(given), expected)) return next(new AppError('API_KEY_WRONG'));
    next();
  };
}

/** True when the request carries the server's key; never when the server has none. */
export function carriesApiKey(req: Request, apiKey: string | undefined): boolean {
  const given = givenKey(req);
  return apiKey !== undefined && given !== undefined && timingSafeEqual(digest(given), digest(apiKey));
}

function givenKey(req: Request): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
  return req.get('x-api-key') ?? bearer;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
