/**
 * What a client tells the monitor about one answer it got: when, how long it waited (its own end-to-end
 * time), the status and error code, and the server's metrics that rode on the answer (Server-Timing and the
 * state header). Clients post them in batches; this schema is the monitor's gate, and nothing that fails it
 * reaches the store.
 */
import { z } from 'zod';
import { STAGES } from './answer-metrics.js';

/** The header that carries the web tier's token when it forwards reports (MONITOR_FORWARD_TOKEN). */
export const FORWARD_TOKEN_HEADER = 'facefleet-forward-token';
/** The client's address the web tier vouches for with that token. */
export const FORWARDED_CLIENT_HEADER = 'facefleet-client';

/** Most reports in one POST. */
export const MAX_REPORTS_PER_BATCH = 500;
/** Most bytes in one POST: a batch of 500 full reports is about 300 KiB of JSON. */
export const MAX_BATCH_BYTES = 512 * 1024;

/** A generous ceiling on any one duration (an hour, in milliseconds): larger is a broken clock, not data. */
const MAX_MS = 3_600_000;

const ms = z.number().finite().min(0).max(MAX_MS);
const count = z.number().int().min(0).max(1_000_000);

export const reportSchema = z.strictObject({
  /** When the client sent the request, epoch milliseconds. */
  at: z
    .number()
    .int()
    .min(Date.UTC(2020, 0, 1))
    .max(Date.UTC(2100, 0, 1)),
  /** Who reported: `workload`, `console`, or another client's short name. */
  source: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a short lower-case name (a-z, 0-9, -)'),
  /** The HTTP status, or 0 when no answer came (the connection failed). */
  status: z.number().int().min(0).max(599),
  /** The error code of an answer that is an error (`NO_FACE`), absent for a success. */
  code: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,47}$/)
    .optional(),
  /** The client's own time from sending the request to having the whole answer. */
  clientMs: ms,
  /** The server's stages, from its Server-Timing header. */
  server: z.partialRecord(z.enum(STAGES), ms).default({}),
  /** The server's state when it answered, from its state header. */
  state: z
    .strictObject({
      queueVisible: count.optional(),
      queueInFlight: count.optional(),
      workersStarting: count.optional(),
      workersRunning: count.optional(),
      worker: z.string().max(64).optional(),
      gallery: count.optional(),
      /** The collection the answer was matched against: accepted, not stored (the store keeps the fields above). */
      collection: z.string().max(64).optional(),
      /** The web process that took the request. */
      web: z.string().max(64).optional(),
      stateAgeMs: ms.optional(),
    })
    .default({}),
});
export type Report = z.infer<typeof reportSchema>;
export type ReportInput = z.input<typeof reportSchema>;

export const reportBatchSchema = z.strictObject({
  reports: z
    .array(reportSchema)
    .min(1, 'holds no report')
    .max(MAX_REPORTS_PER_BATCH, `holds more than ${MAX_REPORTS_PER_BATCH} reports`),
});

/** The first problem of a refused batch, as one sentence that names where it is. */
export function describeRefusal(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join('.') : 'the body';
  return `${where}: ${issue.message}`;
}
