/** How the SDK clients retry: long enough locally to ride out the emulator's restart, AWS's standard mode on AWS. */
import { describe, expect, it } from 'vitest';
import { createS3Client, createSqsClient } from '../../src/shared/aws/clients.js';
import { EMULATOR_RETRY, emulatorRetryDelayMs, emulatorRetryStrategy } from '../../src/shared/aws/retry.js';
import { loadConfig } from '../../src/shared/config/config.js';

type RetryErrorInfo = Parameters<ReturnType<typeof emulatorRetryStrategy>['refreshRetryTokenForRetry']>[1];

describe('retries', () => {
  it('back off locally from 100 ms to 1 s, about 8.5 s in all: longer than the emulator takes to restart (2.6 s)', () => {
    const delays = Array.from({ length: EMULATOR_RETRY.attempts - 1 }, (_, i) => emulatorRetryDelayMs(i + 1));
    expect(delays.slice(0, 5)).toEqual([100, 200, 400, 800, 1000]);
    const total = delays.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(3 * 2600);
    expect(total).toBeLessThan(10_000);
  });

  it('retry a refused connection until the attempts are spent, with no quota, and never a client error', async () => {
    const strategy = emulatorRetryStrategy();
    const refused = {
      errorType: 'TRANSIENT' as const,
      error: Object.assign(new Error('connect ECONNREFUSED'), { $metadata: {} }),
    } as unknown as RetryErrorInfo;
    // Far more retries than the SDK's standard quota (500 tokens, 10 a connection error) allows in one client.
    for (let request = 0; request < 200; request++) {
      let token = await strategy.acquireInitialRetryToken('s3');
      for (let n = 1; n < EMULATOR_RETRY.attempts; n++) {
        token = await strategy.refreshRetryTokenForRetry(token, refused);
        expect(token.getRetryDelay()).toBe(emulatorRetryDelayMs(n));
      }
      await expect(strategy.refreshRetryTokenForRetry(token, refused)).rejects.toThrow(/ECONNREFUSED/);
    }
    const first = await strategy.acquireInitialRetryToken('s3');
    const denied = {
      errorType: 'CLIENT_ERROR',
      error: Object.assign(new Error('AccessDenied'), { $metadata: {} }),
    } as unknown as RetryErrorInfo;
    await expect(strategy.refreshRetryTokenForRetry(first, denied)).rejects.toThrow(/AccessDenied/);
  });

  it('use the emulator strategy locally, and the SDK’s standard mode with 3 attempts on AWS', async () => {
    const local = createS3Client(loadConfig({}));
    const aws = createSqsClient(loadConfig({ FACEFLEET_STACK: 'aws' }));
    try {
      const strategyOf = async (client: typeof local | typeof aws) =>
        (client.config.retryStrategy as unknown as () => Promise<object>)();
      // Locally, ours: it answers a refused connection with a 100 ms delay, as no SDK strategy does.
      const ours = (await strategyOf(local)) as ReturnType<typeof emulatorRetryStrategy>;
      const retried = await ours.refreshRetryTokenForRetry(await ours.acquireInitialRetryToken('s3'), {
        errorType: 'TRANSIENT',
      });
      expect(retried.getRetryDelay()).toBe(100);
      expect(aws.config.retryMode).toBe('standard');
      expect(await aws.config.maxAttempts()).toBe(3);
      expect((await strategyOf(aws)).constructor.name).toBe('StandardRetryStrategy');
    } finally {
      local.destroy();
      aws.destroy();
    }
  });
});
