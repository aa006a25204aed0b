/** Listing and deleting many objects, page by page and batch by batch, as every sweep of a bucket needs. */
import { DeleteObjectsCommand, ListObjectsV2Command, type _Object, type S3Client } from '@aws-sdk/client-s3';

/** S3 deletes at most 1000 keys per DeleteObjects call. */
const S3_MAX_DELETE_KEYS = 1000;

/** Every object of `bucket` under `prefix` ('' for all), one page of up to 1000 at a time. */
export async function* listObjects(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<_Object[]> {
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken }),
    );
    yield page.Contents ?? [];
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
}

/** Deletes `keys` from `bucket`, in as many DeleteObjects calls as it takes. */
export async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += S3_MAX_DELETE_KEYS) {
    const Objects = keys.slice(i, i + S3_MAX_DELETE_KEYS).map((Key) => ({ Key }));
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects, Quiet: true } }));
  }
}
