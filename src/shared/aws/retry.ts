/**
 * How the SDK clients retry, said here once for both stacks.
 *
 * **Locally** the emulator is a child process that `npm start` starts again when it dies: back in 2–3 s
 * (measured: 2.6 s after `kill -9` under load). The SDK's default retries (standard mode, 3 attempts, a 100 ms
 * base with jitter) give up within about 50 ms. Its retry quota (500 tokens, 5 a retry, 10 for a connection
 * error) runs dry after some 50 retries across the whole client, and a burst of 600 requests has more than
 * that in flight. So a restart turned 288 of 600 requests away. The emulator's strategy retries a transient
 * error (a refused or reset connection, a timeout, a 5xx, throttling) up to EMULATOR_RETRY.attempts times,
 * backing off from 100 ms to 1 s: about 8.5 s in all, three times the restart. It has no quota: there is no
 * shared service to protect from a retry storm, and every caller is ours. A client's own mistake (a 4xx) is
 * never retried.
 *
 * **On AWS** the SDK's standard mode is stated, with 3 attempts: exponential backoff with jitter, and the
 * token bucket that stops retries when a service is failing rather than slow, so an outage is not made worse
 * by our fleet. Adaptive mode is not used: it adds a client-side rate limiter, and the first throttle would
 * slow every call that client makes, long polls included. S3 and SQS do not throttle a fleet of 19.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';

type RetryStrategy = Extract<NonNullable<S3ClientConfig['retryStrategy']>, { refreshRetryTokenForRetry: unknown }>;
type RetryToken = Awaited<ReturnType<RetryStrategy['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategy['refreshRetryTokenForRetry']>[1];

export const EMULATOR_RETRY = { attempts: 12, firstDelayMs: 100, maxDelayMs: 1000 } as const;
/** The SDK's standard mode with its default attempts, stated (see above). */
export const AWS_RETRY = { retryMode: 'standard', maxAttempts: 3 } as const;

/** The delay before retry `n` (1-based): doubling from `firstDelayMs`, at most `maxDelayMs`. */
export function emulatorRetryDelayMs(n: number): number {
  return Math.min(EMULATOR_RETRY.maxDelayMs, EMULATOR_RETRY.firstDelayMs * 2 ** (n - 1));
}

const token = (retries: number, delayMs: number): RetryToken => ({
  getRetryCount: () => retries,
  getRetryDelay: () => delayMs,
});

/** Retries transient errors with a long back-off and no quota, for the local emulator (see above). */
export function emulatorRetryStrategy(): RetryStrategy {
  return {
    acquireInitialRetryToken: () => Promise.resolve(token(0, 0)),
    refreshRetryTokenForRetry: (previous: RetryToken, info: RetryErrorInfo) => {
      const next = previous.getRetryCount() + 1;
      if (info.errorType === 'CLIENT_ERROR' || next >= EMULATOR_RETRY.attempts) {
        return Promise.reject(info.error ?? new Error('not retried'));
      }
      return Promise.resolve(token(next, emulatorRetryDelayMs(next)));
    },
    recordSuccess: () => undefined,
  };
}
