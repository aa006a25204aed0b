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
  };
}
export type ResourceNames = ReturnType<typeof resourceNames>;
