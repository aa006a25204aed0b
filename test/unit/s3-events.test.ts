/** S3's event notifications as the video queue receives them, turned into `video` requests, or not. */
import { describe, expect, it } from 'vitest';
import { isS3TestEvent, requestFromS3Event } from '../../src/app-tier/tasks/video/s3-events.js';
import { encodeRequest } from '../../src/shared/wire/messages.js';

const BUCKET = 'p-in-bucket';
/** An event as S3 sends it (AWS's documented example, with our bucket and key). */
const event = (key: string, o: { eventName?: string; bucket?: string; records?: number } = {}) => {
  const record = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-11-27T12:00:00.000Z',
    eventName: o.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AIDAJDPLRKLG7UEXAMPLE' },
    requestParameters: { sourceIPAddress: '203.0.113.7' },
    responseElements: {
      'x-amz-request-id': 'C3D13FE58DE4C810',
      'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'facefleet-videos',
      bucket: {
        name: o.bucket ?? BUCKET,
        ownerIdentity: { principalId: 'A3NL1KOZZKExample' },
        arn: `arn:aws:s3:::${BUCKET}`,
      },
      object: { key, size: 1024, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0055AED6DCD90281E5' },
    },
  };
  return JSON.stringify({ Records: Array(o.records ?? 1).fill(record) });
};

describe('S3 events of videos', () => {
  it('are video requests for the key, URL-decoded, at the event’s time', () => {
    const request = requestFromS3Event(event('videos/Monday+lecture+%C3%A9t%C3%A9+%2B1.mp4'), BUCKET);
    expect(request).toMatchObject({
      v: 3,
      key: 'videos/Monday lecture été +1.mp4',
      sentAt: Date.UTC(2026, 10, 27, 12),
      task: 'video',
      faces: 'all',
    });
    expect(() => encodeRequest(request!)).not.toThrow();
    // S3's message is some 700 bytes before its key, which may be up to 1024 bytes itself: a key of 400
    // characters takes it past the request queue's 1024 bytes (hence a queue of its own).
    expect(Buffer.byteLength(event(`videos/${'a'.repeat(400)}.mp4`))).toBeGreaterThan(1024);
  });

  it.each([
    ['a deletion', event('videos/a.mp4', { eventName: 'ObjectRemoved:Delete' })],
    ['another bucket', event('videos/a.mp4', { bucket: 'someone-else' })],
    ['a key outside videos/', event('uploads/a.mp4')],
    ['a folder', event('videos/2026/')],
    ['a key that does not decode', event('videos/%E0%A4%A.mp4')],
    ['two records in one message', event('videos/a.mp4', { records: 2 })],
    ['a request of the web tier', JSON.stringify({ v: 3, key: 'videos/a.mp4' })],
    ['not JSON', 'videos/a.mp4'],
  ])('are not work: %s', (_what, body) => {
    expect(requestFromS3Event(body, BUCKET)).toBeUndefined();
  });

  it('tell S3’s test event apart', () => {
    expect(isS3TestEvent(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: BUCKET }))).toBe(true);
    expect(isS3TestEvent(event('videos/a.mp4'))).toBe(false);
    expect(isS3TestEvent('{')).toBe(false);
  });
});
