/**
 * The AWS client factory: every S3, SQS and DynamoDB client is built here, with the endpoint passed explicitly (the
 * SQS client would otherwise send to the queue URL's host) and path-style S3 addressing for the emulator.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../config/config.js';
import { AWS_RETRY, emulatorRetryStrategy } from './retry.js';

/**
 * Sockets per client. The SDK's default of 50 lets open long polls starve sends; 100 concurrent uploads each
 * need a PutObject and a SendMessage at once.
 */
const MAX_SOCKETS = 256;

/** The emulator accepts any static credentials; these are placeholders, not secrets. */
const EMULATOR_CREDENTIALS = { accessKeyId: 'emulator', secretAccessKey: 'emulator' };

/** Every client's settings; `endpoint` is the emulator's (S3, SQS) unless a client has its own. */
function common(config: Config, endpoint = config.aws.endpoint) {
  return {
    region: config.aws.region,
    ...(endpoint ? { endpoint } : {}),
    ...(config.aws.useEmulatorCredentials ? { credentials: EMULATOR_CREDENTIALS } : {}),
    requestHandler: {
      httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
      httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
    },
    // Locally, long enough to ride out the emulator's restart; on AWS, the SDK's standard mode (retry.ts).
    ...(config.aws.useEmulatorCredentials ? { retryStrategy: emulatorRetryStrategy() } : AWS_RETRY),
    // The SDK otherwise rebuilds its middleware stack on every call: a sixth of the SDK's CPU in a worker
    // under load (measured with --cpu-prof). We never change a client's middleware after its first call.
    cacheMiddleware: true,
  };
}

export function createS3Client(config: Config): S3Client {
  return new S3Client({
    ...common(config),
    forcePathStyle: config.aws.endpoint !== undefined,
    // Since 2025 the SDK adds a CRC32 checksum to every upload and verifies one on every download. Measured
    // here, that is a third of the CPU of a small PutObject and a quarter of a GetObject, on the machine whose
    // cores the workers need; TLS already protects the bytes in transit on AWS. Checksums stay on for the
    // calls whose API requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Give each long-poll loop its own SQS client so that its open poll never holds a socket a send needs. */
export function createSqsClient(config: Config): SQSClient {
  return new SQSClient(common(config));
}

/** The student records' DynamoDB: dynalite under `npm start` (its own endpoint, beside the emulator's). */
export function createDynamoClient(config: Config): DynamoDBClient {
  return new DynamoDBClient(common(config, config.aws.dynamodbEndpoint));
}

/**
 * True when AWS says the thing is not there, in any service's spelling: S3's 404s (NoSuchKey, NotFound),
 * SQS's QueueDoesNotExist, IAM's NoSuchEntity, EC2's `….NotFound` codes.
 */
export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? e?.Code ?? '';
  return e?.$metadata?.httpStatusCode === 404 || /NotFound|NoSuch|NonExistent|DoesNotExist/.test(name);
}
