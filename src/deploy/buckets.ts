/**
 * The deployment's buckets: each exists, blocks public access, encrypts by default (SSE-S3), and carries our
 * retention rule where RETENTION_DAYS expires something in it. Read first, changed only where it differs.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  DeleteBucketLifecycleCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutPublicAccessBlockCommand,
  type LifecycleRule,
  type PublicAccessBlockConfiguration,
  type ServerSideEncryptionConfiguration,
} from '@aws-sdk/client-s3';
import { isNotFound } from '../shared/aws/clients.js';
import { bucketCreation, RETENTION_RULE_ID } from '../shared/aws/resources.js';
import type { ProvisionOptions } from './provision.js';
import { DeployError, orMissing, type AnyCommand, type Deployment } from './session.js';

const BLOCK_ALL_PUBLIC_ACCESS: Required<
  Pick<
    PublicAccessBlockConfiguration,
    'BlockPublicAcls' | 'IgnorePublicAcls' | 'BlockPublicPolicy' | 'RestrictPublicBuckets'
  >
> = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

const DEFAULT_ENCRYPTION: ServerSideEncryptionConfiguration = {
  Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
};

/** Whether a bucket's public access block shuts every door. */
export function blocksAllPublicAccess(c: PublicAccessBlockConfiguration | undefined): boolean {
  return Boolean(c?.BlockPublicAcls && c.IgnorePublicAcls && c.BlockPublicPolicy && c.RestrictPublicBuckets);
}

/** Whether a bucket encrypts new objects by default with any rule at all (ours, or one its owner chose). */
export function encryptsByDefault(c: ServerSideEncryptionConfiguration | undefined): boolean {
  return (c?.Rules?.length ?? 0) > 0;
}

/** What our retention rule should be: objects under `prefix` expire after `days`; undefined: no rule. */
export interface RetentionWant {
  readonly prefix: string | undefined;
  readonly days: number | undefined;
}

/** S3 lifecycle rules count whole days: RETENTION_DAYS rounded up, at least 1. */
export function lifecycleDays(retentionDays: number | undefined): number | undefined {
  return retentionDays === undefined ? undefined : Math.max(1, Math.ceil(retentionDays));
}

/**
 * The lifecycle change that gives a bucket our retention rule (RETENTION_RULE_ID) and keeps everyone else's:
 * `put` these rules, `delete` the configuration (no rule left), or nothing to do.
 */
export function retentionChange(
  current: readonly LifecycleRule[],
  want: RetentionWant,
): { kind: 'none' } | { kind: 'put'; rules: LifecycleRule[]; summary: string } | { kind: 'delete'; summary: string } {
  const ours = current.find((r) => r.ID === RETENTION_RULE_ID);
  const others = current.filter((r) => r.ID !== RETENTION_RULE_ID);
  if (want.prefix === undefined || want.days === undefined) {
    if (!ours) return { kind: 'none' };
    const summary = 'retention rule removed';
    return others.length > 0 ? { kind: 'put', rules: others, summary } : { kind: 'delete', summary };
  }
  const same =
    ours?.Status === 'Enabled' && (ours.Filter?.Prefix ?? '') === want.prefix && ours.Expiration?.Days === want.days;
  if (same) return { kind: 'none' };
  const desired: LifecycleRule = {
    ID: RETENTION_RULE_ID,
    Status: 'Enabled',
    Filter: { Prefix: want.prefix },
    Expiration: { Days: want.days },
  };
  return {
    kind: 'put',
    rules: [...others, desired],
    summary: `${want.prefix ? `${want.prefix}* ` : 'objects '}expire after ${want.days} day(s)`,
  };
}

/** Our rule that aborts multipart uploads left unfinished, so that their parts are not billed for ever. */
export const ABORT_RULE_ID = 'facefleet-abort-incomplete-uploads';
const ABORT_SUMMARY = 'incomplete multipart uploads aborted after 1 day';

/**
 * The rules with ABORT_RULE_ID added when missing (the same array when it is there): a large video goes up in
 * parts (lib-storage), and the parts of an upload that never completed stay, billed, until aborted (S3 User
 * Guide, "Configuring a bucket lifecycle configuration to delete incomplete multipart uploads").
 */
export function withAbortRule(rules: readonly LifecycleRule[]): readonly LifecycleRule[] {
  if (rules.some((r) => r.ID === ABORT_RULE_ID)) return rules;
  return [
    ...rules,
    {
      ID: ABORT_RULE_ID,
      Status: 'Enabled',
      Filter: { Prefix: '' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    },
  ];
}

/** `expiringPrefix`: what RETENTION_DAYS expires in this bucket (see retentionRules); undefined: nothing. */
export async function ensureBucket(
  { clients: { s3 }, session, config }: ProvisionOptions,
  Bucket: string,
  expiringPrefix: string | undefined,
): Promise<void> {
  const step = `bucket ${Bucket}`;
  let exists = true;
  try {
    await session.read(step, s3, new HeadBucketCommand({ Bucket }));
  } catch (err) {
    const cause = (err as DeployError).cause as { $metadata?: { httpStatusCode?: number } } | undefined;
    if (cause?.$metadata?.httpStatusCode === 403) {
      throw new DeployError(
        `${step}: S3 answers 403 Forbidden. Bucket names are global: another AWS account may own this one ` +
          `(choose another --prefix), or the credentials lack s3:ListBucket on it.`,
        step,
        { cause },
      );
    }
    if (!isNotFound(cause)) throw err;
    exists = false;
  }
  if (!exists) await session.change(step, s3, new CreateBucketCommand(bucketCreation(Bucket, config.aws.region)));
  const changes: string[] = [];
  // What a bucket that exists already has; a new one has nothing yet, and a missing setting reads as undefined.
  const current = <C extends AnyCommand>(command: C) =>
    exists ? session.read(step, s3, command).catch(orMissing) : Promise.resolve(undefined);
  const block = await current(new GetPublicAccessBlockCommand({ Bucket }));
  if (!blocksAllPublicAccess(block?.PublicAccessBlockConfiguration)) {
    await session.change(
      step,
      s3,
      new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: BLOCK_ALL_PUBLIC_ACCESS }),
    );
    changes.push('public access blocked');
  }
  const encryption = await current(new GetBucketEncryptionCommand({ Bucket }));
  if (!encryptsByDefault(encryption?.ServerSideEncryptionConfiguration)) {
    await session.change(
      step,
      s3,
      new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: DEFAULT_ENCRYPTION }),
    );
    changes.push('default encryption on');
  }
  const lifecycle = await current(new GetBucketLifecycleConfigurationCommand({ Bucket }));
  const currentRules = lifecycle?.Rules ?? [];
  const retention = retentionChange(currentRules, {
    prefix: expiringPrefix,
    days: lifecycleDays(config.retention.days),
  });
  const afterRetention = retention.kind === 'put' ? retention.rules : retention.kind === 'delete' ? [] : currentRules;
  const rules = withAbortRule(afterRetention);
  const said = [retention.kind === 'none' ? '' : retention.summary, rules === afterRetention ? '' : ABORT_SUMMARY];
  if (retention.kind !== 'none' || rules !== afterRetention) {
    await session.change(
      step,
      s3,
      rules.length > 0
        ? new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [...rules] } })
        : new DeleteBucketLifecycleCommand({ Bucket }),
    );
    changes.push(...said.filter(Boolean));
  }
  if (!exists) {
    const created = ['public access blocked, encrypted (SSE-S3)', ...said];
    session.report(step, 'created', created.filter(Boolean).join(', '));
  } else {
    session.report(step, changes.length ? 'updated' : 'unchanged', changes.join(', ') || undefined);
  }
}

/** Empties the bucket, then deletes it. */
export async function deleteBucket({ clients: { s3 }, session }: Deployment, Bucket: string) {
  const step = `bucket ${Bucket}`;
  const exists = await session.read(step, s3, new HeadBucketCommand({ Bucket })).then(
    () => true,
    (err: unknown) => orMissing(err) ?? false,
  );
  if (!exists) {
    session.report(step, 'already gone');
    return;
  }
  let objects = 0;
  let ContinuationToken: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await session.read(
      step,
      s3,
      new ListObjectsV2Command({ Bucket, ContinuationToken }),
    );
    const keys = (page.Contents ?? []).map((c) => ({ Key: c.Key! }));
    if (keys.length) {
      await session.change(
        step,
        s3,
        new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }),
        undefined,
      );
      objects += keys.length;
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  await session.change(step, s3, new DeleteBucketCommand({ Bucket }));
  session.report(step, 'deleted', `after emptying ${objects} objects`);
}
