/**
 * A worker that answers at once, for `npm run bench:front-door` only: it takes requests from the real request
 * queue, reads each image from the in-bucket and stores its label in the out-bucket as a worker does, and
 * replies where the request says, with the label the course's labels file gives the image's stem. It runs no
 * model, so what the benchmark measures is the front door (web tier, queues, S3) alone.
 *
 *   node --import tsx scripts/lib/instant-worker.ts <labels.csv>   (configured by the environment, as a worker)
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';
import { QueueConsumer, type MessageHandler } from '../../src/app-tier/queue-consumer.js';
import { ReplyQueueUrls } from '../../src/app-tier/reply-queue-directory.js';
import { createS3Client, createSqsClient } from '../../src/shared/aws/clients.js';
import { createLogger } from '../../src/shared/logger.js';
import {
  decodeFileNameMetadata,
  decodeRequest,
  encodeResponse,
  FILE_NAME_METADATA,
  fileStem,
  MESSAGE_VERSION,
  type RequestMessage,
} from '../../src/shared/wire/messages.js';
import { runMain } from '../../src/shared/process.js';
import { replyQueueOfRequest } from '../../src/shared/wire/reply-queues.js';
import { resolveQueueUrls } from '../../src/shared/aws/resources.js';
import { loadLabels } from './workload.js';

await runMain('instant-worker', async (config) => {
  const labelsFile = process.argv[2];
  if (!labelsFile) throw new Error('usage: instant-worker.ts <labels.csv>');
  const labels = await loadLabels(labelsFile);
  const logger = createLogger(config, { tier: 'app' });
  const s3 = createS3Client(config);
  const sqs = createSqsClient(config);
  const pollSqs = createSqsClient(config);
  const queues = await resolveQueueUrls(config, sqs);
  const workerId = `instant-${process.pid}`;
  const names = config.resources;

  const handler: MessageHandler<RequestMessage> = {
    accept: (message: Message) => decodeRequest(message.Body),
    async handle(request) {
      const started = performance.now();
      const object = await s3.send(new GetObjectCommand({ Bucket: names.inBucket, Key: request.key }));
      await object.Body!.transformToByteArray();
      const fileName = decodeFileNameMetadata(object.Metadata?.[FILE_NAME_METADATA]) ?? request.key;
      const stem = fileStem(fileName);
      const downloaded = performance.now();
      const label = labels.get(stem) ?? 'Unknown';
      await s3.send(
        new PutObjectCommand({ Bucket: names.outBucket, Key: stem, Body: label, ContentType: 'text/plain' }),
      );
      return encodeResponse({
        v: MESSAGE_VERSION,
        status: 'ok',
        requestId: request.requestId,
        stem,
        workerId,
        task: request.task,
        image: { width: 0, height: 0 },
        facesFound: 1,
        faces: [],
        label,
        collection: request.collection,
        timings: { downloadMs: downloaded - started, storeMs: performance.now() - downloaded },
      });
    },
    replyToFailure: () => null,
    logContext: (request) => ({ requestId: request.requestId }),
    replyQueue: (request) => replyQueueOfRequest(names, request.replyTo),
  };
  const consumer = new QueueConsumer({
    queueUrl: queues.request,
    replyQueueUrl: queues.response,
    replyQueues: new ReplyQueueUrls(sqs, logger),
    pollSqs,
    sqs,
    handler,
    logger,
    batchSize: 10,
    waitTimeSeconds: config.worker.waitTimeSeconds,
    maxReceiveCount: config.queue.maxReceiveCount,
  });
  consumer.start();
  process.send?.({ type: 'facefleet:instant-worker-ready' });
  return {
    logger,
    stop: async () => {
      await consumer.stop();
      for (const client of [s3, sqs, pollSqs]) client.destroy();
    },
  };
});
