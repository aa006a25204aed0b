/**
 * GET /healthz: the process is alive. GET /readyz: it can do its job, i.e. both buckets and both queues answer
 * and the response pollers run; 503 naming what failed otherwise.
 */
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RequestHandler } from 'express';

export interface ReadinessDeps {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly buckets: readonly string[];
  readonly queueUrls: readonly string[];
  readonly isAccepting: () => boolean;
}

/** A readiness probe must answer quickly even when a dependency hangs. */
const PROBE_TIMEOUT_MS = 3000;

export function healthHandlers(deps: ReadinessDeps): { healthz: RequestHandler; readyz: RequestHandler } {
  const healthz: RequestHandler = (_req, res) => {
    res.type('text/plain').send('ok');
  };
  const readyz: RequestHandler = async (_req, res) => {
    const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    const checks = [
      ...deps.buckets.map((Bucket) => ({
        name: `bucket ${Bucket}`,
        run: () => deps.s3.send(new HeadBucketCommand({ Bucket }), { abortSignal: signal }),
      })),
      ...deps.queueUrls.map((QueueUrl) => ({
        name: `queue ${QueueUrl.split('/').pop()}`,
        run: () =>
          deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }), {
            abortSignal: signal,
          }),
      })),
    ];
    const results = await Promise.allSettled(checks.map((c) => c.run()));
    const failed = checks.filter((_, i) => results[i]!.status === 'rejected').map((c) => c.name);
    if (!deps.isAccepting()) {
      res.status(503).type('text/plain').send('Not ready: the web tier is shutting down.');
    } else if (failed.length > 0) {
      res
        .status(503)
        .type('text/plain')
        .send(`Not ready: cannot reach ${failed.join(', ')}.`);
    } else {
      res.type('text/plain').send('ready');
    }
  };
  return { healthz, readyz };
}
