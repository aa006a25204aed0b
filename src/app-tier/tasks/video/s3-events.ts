/**
 * S3's event notifications, as they arrive on the video queue when a video is put under `videos/` in the
 * in-bucket on AWS: one `ObjectCreated:*` record per message, its key URL-encoded (a space as `+`). Each
 * becomes a `video` request, as the web tier's `POST /videos` would have sent it. S3's `s3:TestEvent`, sent
 * when the notification is configured, and anything else are not requests.
 */
import { DEFAULT_COLLECTION } from '../../../shared/collections/manifest.js';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { MESSAGE_VERSION, VIDEOS_PREFIX, type RequestMessage } from '../../../shared/wire/messages.js';

const eventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventSource: z.literal('aws:s3'),
        eventName: z.string().startsWith('ObjectCreated:'),
        eventTime: z.string(),
        s3: z.object({
          bucket: z.object({ name: z.string() }),
          object: z.object({ key: z.string().min(1), size: z.number().int().nonnegative().optional() }),
        }),
      }),
    )
    .length(1),
});

/** The `video` request of an S3 event for a video of `inBucket`'s `videos/`; undefined for anything else. */
export function requestFromS3Event(body: string | undefined, inBucket: string): RequestMessage | undefined {
  if (body === undefined) return undefined;
  let parsed;
  try {
    parsed = eventSchema.safeParse(JSON.parse(body));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  const record = parsed.data.Records[0]!;
  let key: string;
  try {
    key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
  if (record.s3.bucket.name !== inBucket || !key.startsWith(VIDEOS_PREFIX) || key.endsWith('/')) return undefined;
  const sentAt = Date.parse(record.eventTime);
  return {
    v: MESSAGE_VERSION,
    requestId: randomUUID(),
    key,
    sentAt: Number.isFinite(sentAt) ? sentAt : Date.now(),
    task: 'video',
    faces: 'all',
    collection: DEFAULT_COLLECTION,
  };
}

/** Whether a message body is S3's test event (sent once when a notification is configured). */
export function isS3TestEvent(body: string | undefined): boolean {
  try {
    return (JSON.parse(body ?? '') as { Event?: unknown }).Event === 's3:TestEvent';
  } catch {
    return false;
  }
}
