/**
 * How the deploy commands talk to AWS: every call goes through one session, which tells reads (always made,
 * even in a dry run: they change nothing) from changes (printed instead of made in a dry run), records what
 * each step did, and turns a failure into one sentence naming the step and the permission or the cause.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { isNotFound } from '../shared/aws/clients.js';

/** What a step did, as printed: "created", "updated", "unchanged", "deleted", "already gone". */
export type Outcome =
  'created' | 'updated' | 'unchanged' | 'deleted' | 'already gone' | 'would create' | 'would change';

export interface Report {
  readonly step: string;
  readonly outcome: Outcome;
  readonly detail?: string;
}

/** Any SDK v3 client and command, loosely: each service's types differ, and the session only sends them. */
export interface AnyClient {
  send(command: never): Promise<unknown>;
  readonly config: { readonly serviceId?: string };
}
export type AnyCommand = object & { readonly input: unknown };

/**
 * The SDK's own output type of a command (`GetQueueUrlCommandOutput` for a `GetQueueUrlCommand`), read from
 * the handler its middleware resolves to, as the clients' own `send` overloads do.
 */
export type OutputOf<C> = C extends {
  resolveMiddleware(stack: never, configuration: never, options: never): (args: never) => Promise<{ output: infer O }>;
}
  ? O
  : never;
/** What a change answers: in a dry run, placeholders (or nothing) in place of AWS's output. */
export type DryRunOutput<C> = Partial<Omit<OutputOf<C>, '$metadata'>>;

/** The clients of a deployment command. */
export interface AwsClients {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly iam: IAMClient;
  readonly ec2: EC2Client;
  /** The student records' table. */
  readonly dynamodb: DynamoDBClient;
  /** The Auto Scaling group's calls (provisioning with --group, and teardown). */
  readonly autoscaling?: AutoScalingClient;
  /** The web group's load balancer (provisioning with --web-group, and teardown). */
  readonly elb?: ElasticLoadBalancingV2Client;
}

/** What each step of a deployment command works with: the clients, and the session that makes its calls. */
export interface Deployment {
  readonly clients: AwsClients;
  readonly session: Session;
}

/** IAM action names that are not the service prefix plus the API operation's name. */
const ACTIONS: Record<string, string> = {
  'S3:HeadBucket': 's3:ListBucket',
  'S3:ListObjectsV2': 's3:ListBucket',
  'S3:DeleteObjects': 's3:DeleteObject',
  'S3:PutPublicAccessBlock': 's3:PutBucketPublicAccessBlock',
  'S3:GetPublicAccessBlock': 's3:GetBucketPublicAccessBlock',
  'S3:PutBucketEncryption': 's3:PutEncryptionConfiguration',
  'S3:GetBucketEncryption': 's3:GetEncryptionConfiguration',
  'S3:PutBucketNotificationConfiguration': 's3:PutBucketNotification',
  'S3:GetBucketNotificationConfiguration': 's3:GetBucketNotification',
};

/** The IAM action a call needs, e.g. `iam:CreateRole`, `s3:PutBucketPublicAccessBlock`. */
export function actionOf(client: AnyClient, command: AnyCommand): string {
  const service = client.config.serviceId ?? 'aws';
  const operation = command.constructor.name.replace(/Command$/, '');
  // Service ids with spaces ("Auto Scaling") are one word in IAM ("autoscaling").
  return ACTIONS[`${service}:${operation}`] ?? `${service.toLowerCase().replace(/\s+/g, '')}:${operation}`;
}

export class DeployError extends Error {
  constructor(
    message: string,
    readonly step: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DeployError';
  }
}

export class Session {
  readonly reports: Report[] = [];

  constructor(
    readonly dryRun: boolean,
    private readonly print: (line: string) => void,
  ) {}

  /** Says what a step is waiting for, without recording an outcome. */
  note(step: string, detail: string): void {
    this.print(`${'waiting'.padEnd(13)} ${step}: ${detail}`);
  }

  /** A call that changes nothing: made even in a dry run. */
  read<C extends AnyCommand>(step: string, client: AnyClient, command: C): Promise<OutputOf<C>> {
    return this.send(step, client, command);
  }

  /**
   * A call that changes something. In a dry run it is printed, not made, and `dryRunResult` stands in for its
   * answer (placeholder ids that later steps print; by default nothing).
   */
  async change<C extends AnyCommand>(
    step: string,
    client: AnyClient,
    command: C,
    dryRunResult?: DryRunOutput<C>,
  ): Promise<DryRunOutput<C>> {
    if (this.dryRun) {
      this.print(`  would call ${actionOf(client, command)} ${JSON.stringify(summarise(command.input))}`);
      return dryRunResult ?? ({} as DryRunOutput<C>);
    }
    return this.send(step, client, command);
  }

  /** Records and prints what a step did. */
  report(step: string, outcome: Outcome, detail?: string): void {
    const shown = !this.dryRun
      ? outcome
      : outcome === 'created'
        ? 'would create'
        : outcome === 'updated'
          ? 'would change'
          : outcome;
    this.reports.push({ step, outcome: shown, detail });
    this.print(`${shown.padEnd(13)} ${step}${detail ? `: ${detail}` : ''}`);
  }

  /** One line: how many steps ended how ("3 unchanged, 1 created"), or that nothing needed a change. */
  summary(): string {
    const counts = new Map<string, number>();
    for (const r of this.reports) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
    const changed = this.reports.some((r) => r.outcome !== 'unchanged' && r.outcome !== 'already gone');
    return `${[...counts].map(([o, n]) => `${n} ${o}`).join(', ')}${changed ? '' : ' — nothing to change'}`;
  }

  private async send<C extends AnyCommand>(step: string, client: AnyClient, command: C): Promise<OutputOf<C>> {
    try {
      // The one place the command's output type is asserted: AnyClient erases each client's send overloads.
      return (await client.send(command as never)) as OutputOf<C>;
    } catch (err) {
      throw explain(err, step, actionOf(client, command));
    }
  }
}

/** For `.catch` on a read: a missing thing is `undefined`, anything else is rethrown. */
export function orMissing(err: unknown): undefined {
  if (err instanceof DeployError && isNotFound(err.cause)) return undefined;
  throw err;
}

/** Runs a delete; true when the thing was already gone. */
export async function alreadyGone(remove: () => Promise<unknown>): Promise<boolean> {
  try {
    await remove();
    return false;
  } catch (err) {
    if (err instanceof DeployError && isNotFound(err.cause)) return true;
    throw err;
  }
}

/** One sentence for a failed call: which step, which permission or limit, and what to do. */
export function explain(err: unknown, step: string, action: string): DeployError {
  const e = err as { name?: string; message?: string };
  const name = e?.name ?? 'Error';
  const reason = e?.message ?? String(err);
  if (/AccessDenied|UnauthorizedOperation|AuthorizationError|Forbidden/i.test(name)) {
    return new DeployError(
      `${step}: AWS denied ${action} (${name}). The credentials in use need that permission; give it to them ` +
        `(docs/deployment.md) and run the command again: it is safe to re-run.`,
      step,
      { cause: err },
    );
  }
  if (/Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/i.test(name)) {
    return new DeployError(
      `${step}: AWS kept throttling ${action} after several retries (${name}). Wait a minute and run the command ` +
        `again: it picks up where it stopped.`,
      step,
      { cause: err },
    );
  }
  if (/CredentialsProviderError|ExpiredToken|InvalidClientTokenId|UnrecognizedClient/i.test(name)) {
    return new DeployError(
      `${step}: no valid AWS credentials (${name}: ${reason}). Sign in (aws sso login, or set AWS_PROFILE) and ` +
        `run the command again.`,
      step,
      { cause: err },
    );
  }
  return new DeployError(`${step}: ${action} failed (${name}: ${reason})`, step, { cause: err });
}

/** A command's input for printing: user data and policy documents shortened, everything else as it is. */
function summarise(input: unknown): unknown {
  if (!input || typeof input !== 'object') return input;
  return Object.fromEntries(
    Object.entries(input).map(([k, v]) => [
      k,
      typeof v === 'string' && v.length > 120 ? `${v.slice(0, 60)}… (${v.length} characters)` : summarise(v),
    ]),
  );
}
