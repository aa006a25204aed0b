/**
 * A batch of reports that declares more than MAX_BATCH_BYTES is refused with 413 at once, by the web tier that
 * forwards it and by the monitor. body-parser refuses it too, but only once the whole body has arrived, so a
 * client declaring 1 GiB held the connection until the upload deadline.
 */
import type { RequestHandler } from 'express';
import { AppError } from '../shared/wire/errors.js';
import { MAX_BATCH_BYTES } from '../shared/wire/monitor-reports.js';

export const refuseDeclaredTooLarge: RequestHandler = (req, _res, next) => {
  const declared = Number(req.get('content-length'));
  next(
    Number.isFinite(declared) && declared > MAX_BATCH_BYTES
      ? new AppError('REPORTS_TOO_LARGE', { limitBytes: MAX_BATCH_BYTES })
      : undefined,
  );
};
