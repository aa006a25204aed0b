/**
 * Where a failed message is retried, or not. A pure function of the failure, the message's receive count and
 * the queue's redrive limit (maxReceiveCount), so that the whole table is tested without a queue.
 *
 * - The input itself is at fault (not an image, no face, no gallery: an `AppError` that is not retryable):
 *   answer at once with that error, and delete the message. Trying again would fail the same way.
 * - Anything else (an S3 or SQS hiccup, a crash in a dependency) on a receive before the last: leave the
 *   message; it comes back after its visibility timeout, to this worker or another.
 * - The same on the last receive SQS allows before the dead-letter queue: answer with an error instead, so
 *   that no request waits for nothing.
 */
import { AppError } from '../shared/wire/errors.js';

export type RetryDecision =
  /** Answer with this error now; retrying cannot help. */
  | { readonly kind: 'refuse'; readonly error: AppError }
  /** Leave the message to come back after its visibility timeout. */
  | { readonly kind: 'retry'; readonly attempts: number }
  /** The last allowed attempt failed: answer that it failed after `attempts`. */
  | { readonly kind: 'give-up'; readonly attempts: number };

/** A decision that answers the message now (refused, or given up), rather than leaving it to come back. */
export type FinalDecision = Exclude<RetryDecision, { kind: 'retry' }>;

/**
 * @param receiveCount the message's ApproximateReceiveCount (1 on its first delivery); a missing or
 *   unreadable count is taken as 1.
 * @param maxReceiveCount the queue's redrive maxReceiveCount, at least 1.
 */
export function decideRetry(err: unknown, receiveCount: number, maxReceiveCount: number): RetryDecision {
  if (err instanceof AppError && !err.retryable) return { kind: 'refuse', error: err };
  const attempts = Number.isInteger(receiveCount) && receiveCount >= 1 ? receiveCount : 1;
  return attempts >= maxReceiveCount ? { kind: 'give-up', attempts } : { kind: 'retry', attempts };
}
