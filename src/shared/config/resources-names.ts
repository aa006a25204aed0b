/** Bucket and queue names derived from one prefix, in the course's layout. */
export function resourceNames(prefix: string) {
  return {
    prefix,
    inBucket: `${prefix}-in-bucket`,
    outBucket: `${prefix}-out-bucket`,
    /** Not part of the course layout: kept apart so the in/out buckets hold exactly one object per request. */
    galleryBucket: `${prefix}-gallery-bucket`,
    requestQueue: `${prefix}-req-queue`,
    responseQueue: `${prefix}-resp-queue`,
    deadLetterQueue: `${prefix}-req-dlq`,
    /**
     * Videos: the web tier's `video` requests (long work, kept out of the image batches), and S3's event messages
     * for videos put under `videos/` (AWS), some 700 bytes plus the key (up to 1024 bytes itself): more than the
     * request queue's 1024 bytes for any but short names.
     */
    videoQueue: `${prefix}-video-queue`,
    /** DynamoDB: the student records of classroom videos, keyed by the enrolled person's name. */
    studentsTable: `${prefix}-students`,
  };
}

/** Tag of the web instance (not the fleet tag: the autoscaler must never count or stop its own host). */
export const WEB_TAG = 'facefleet:web';
/** Tag of the web group's instances (`--web-group`): listed and waited for like the others, never the fleet's. */
export const WEB_GROUP_TAG = 'facefleet:web-group';
