/**
 * The AWS deployment, scripted (docs/deployment.md). Credentials come from the default chain (profile,
 * SSO, instance role); nothing here reads or writes an access key.
 *
 *   npm run aws:provision -- --allow-cidr 203.0.113.7/32 [--ami ami-…]   buckets, queues, IAM, groups, template
 *                            [--group] [--web-group]                     app-tier group; load balancer + web group
 *   npm run aws:image -- --instance i-…                                  the baked instance → the app-tier AMI
 *   npm run aws:web                                                      the web instance (web tier + autoscaler)
 *   npm run aws:warm-pool -- --size 19                                   optional: stopped instances, ready to start
 *   npm run aws:status                                                   queues, instances, buckets
 *   npm run aws:teardown [-- --yes]                                      everything above, gone
 *
 * Every command takes --region, --prefix and --dry-run (reads are made, changes are printed, not made).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { Command, InvalidArgumentError } from 'commander';
import { createS3Client, createSqsClient } from '../src/shared/aws/clients.js';
import { ConfigError, loadConfig, type Config } from '../src/shared/config/config.js';
import { createAppTierImage } from '../src/deploy/image.js';
import { webPolicy, workerPolicy } from '../src/deploy/iam-policies.js';
import { WEB_INSTANCE_NAME } from '../src/deploy/names.js';
import { provision } from '../src/deploy/provision.js';
import { DeployError, Session, type AwsClients } from '../src/deploy/session.js';
import { formatChecks, preflight } from '../src/deploy/preflight.js';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { STSClient } from '@aws-sdk/client-sts';
import { deploymentStatus, formatStatus } from '../src/deploy/status.js';
import { teardown } from '../src/deploy/teardown.js';
import { ensureWarmPool } from '../src/deploy/warm-pool.js';
import { deploymentFile, deploymentFileName, launchTemplateOf } from '../src/deploy/web-environment.js';
import { ensureWebInstance, webInstancePrerequisites } from '../src/deploy/web-instance.js';
import { positiveInt, wholeNumber } from './lib/options.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';

interface Common {
  region?: string;
  prefix?: string;
  dryRun: boolean;
}

function cidr(value: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
    throw new InvalidArgumentError('must be an IPv4 CIDR such as 203.0.113.7/32 (your address) or 0.0.0.0/0.');
  }
  return value;
}

function amiId(value: string): string {
  if (!/^ami-[0-9a-f]{8,17}$/.test(value))
    throw new InvalidArgumentError('must be an AMI id like ami-0123456789abcdef0.');
  return value;
}

const program = new Command()
  .name('npm run aws:<command> --')
  .description('Deploy facefleet on AWS: provision, bake, run, inspect, tear down.')
  .option('--region <region>', 'AWS region (default: AWS_REGION, else us-east-1)')
  .option('--prefix <prefix>', 'name prefix of every resource (default: RESOURCE_PREFIX, else facefleet)')
  .option('--dry-run', 'make the reads, print the changes instead of making them', false)
  .showHelpAfterError();

program
  .command('provision')
  .description('create or update the buckets, queues, IAM roles and profiles, security groups, launch template')
  .requiredOption('--allow-cidr <cidr>', 'who may reach the web tier on port 8000', cidr)
  .option('--ami <id>', 'the baked app-tier AMI (needed for the launch template)', amiId)
  .option('--instance-type <type>', 'app-tier instance type', 't3.micro')
  .option('--vpc-id <id>', 'VPC for the security groups (default: the default VPC)')
  .option('--out <file>', 'where to write the deployment file (default: facefleet.<prefix>.env)')
  .option('--group', 'an Auto Scaling group for the app tier (the autoscaler then runs with FLEET_DRIVER=asg)')
  .option('--warm-pool <n>', 'with --group: a warm pool of n stopped instances', wholeNumber, 0)
  .option(
    '--subnets <ids>',
    'with --group or --web-group: comma-separated subnet ids (default: every subnet of the VPC; for --web-group, one in each of two availability zones)',
  )
  .option(
    '--web-group',
    'a load balancer on port 8000 in front of an Auto Scaling group of web instances (WEB_GROUP_MIN_SIZE, WEB_GROUP_MAX_SIZE, WEB_GROUP_REQUESTS_PER_TARGET); without it, one web instance (npm run aws:web)',
  )
  .option('--web-instance-type <type>', 'with --web-group: the web instances’ type', 't3.small')
  .option('--ssm', 'Systems Manager Session Manager on the instances: a shell with no SSH port (aws ssm start-session)')
  .option('--logs', 'ship every unit’s journal to CloudWatch Logs, /facefleet/<prefix> (LOG_SHIPPING=cloudwatch)')
  .action(async (opts: ProvisionCli) => {
    if (opts.warmPool > 0 && !opts.group) fail('--warm-pool needs --group.');
    const { config, clients, session } = setUp(
      program.opts<Common>(),
      {},
      {
        ...(opts.group ? { FLEET_DRIVER: 'asg', APP_TIER_GROUP: '' } : {}),
        ...(opts.logs ? { LOG_SHIPPING: 'cloudwatch' } : {}),
      },
    );
    const result = await provision({
      config,
      clients,
      session,
      allowCidr: opts.allowCidr,
      amiId: opts.ami,
      instanceType: opts.instanceType,
      vpcId: opts.vpcId,
      ...(opts.group
        ? {
            group: {
              warmPoolSize: opts.warmPool,
              ...(opts.subnets ? { subnetIds: opts.subnets.split(',').map((s) => s.trim()) } : {}),
            },
          }
        : {}),
      ...(opts.webGroup ? { webGroup: { instanceType: opts.webInstanceType } } : {}),
      ssm: opts.ssm === true,
    });
    const file = opts.out ?? deploymentFileName(config);
    if (session.dryRun) {
      console.log(`would write ${file}`);
    } else {
      await writeFile(file, deploymentFile(config, result), { mode: 0o644 });
      console.log(`wrote ${file}`);
    }
    console.log(session.summary());
    if (!result.launchTemplateId) {
      console.log('next: bake the app-tier AMI (docs/deployment.md), then run this again with --ami ami-…');
    } else console.log('next: npm run aws:web');
    if (result.webGroup)
      console.log(
        `the web group answers on http://${result.webGroup.loadBalancerDns}:8000/ once its instances are healthy ` +
          '(a few minutes); npm run aws:web still runs the autoscaler and the monitor',
      );
  });

program
  .command('preflight')
  .description(
    'check what the account needs before provisioning (credentials, vCPU quota, roles, the AMI); changes nothing',
  )
  .option('--ami <id>', 'the baked app-tier AMI to look for', amiId)
  .option('--instance-type <type>', 'app-tier instance type', 't3.micro')
  .option('--web-instance-type <type>', 'the web instance’s type', 't3.micro')
  .option('--group', 'the app tier will be an Auto Scaling group (checks its service-linked role)')
  .option('--vpc-id <id>', 'the VPC provisioning will use (default: the default VPC, which is then checked)')
  .action(
    async (opts: { ami?: string; instanceType: string; webInstanceType: string; group?: boolean; vpcId?: string }) => {
      const { config, clients } = setUp(program.opts<Common>(), { quiet: true });
      const retries = { region: config.aws.region, maxAttempts: 8, retryMode: 'adaptive' as const };
      const checks = await preflight(
        {
          sts: new STSClient(retries),
          ec2: clients.ec2,
          iam: clients.iam,
          quotas: new ServiceQuotasClient(retries),
        },
        {
          region: config.aws.region,
          maxWorkers: config.autoscaler.policy.maxWorkers,
          instanceType: opts.instanceType,
          webInstanceType: opts.webInstanceType,
          group: opts.group === true,
          ...(opts.ami ? { ami: opts.ami } : {}),
          ...(opts.vpcId ? { vpcId: opts.vpcId } : {}),
        },
      );
      console.log(formatChecks(checks));
      const missing = checks.filter((c) => !c.ok).length;
      console.log(missing === 0 ? 'ready to provision' : `${missing} thing(s) to fix before provisioning`);
      process.exitCode = missing === 0 ? 0 : 1;
    },
  );

program
  .command('image')
  .description('make the app-tier AMI from an instance that deploy/bake.sh has prepared')
  .requiredOption('--instance <id>', 'the baked instance (i-…)')
  .action(async (opts: { instance: string }) => {
    const { config, clients, session } = setUp(program.opts<Common>());
    const ami = await createAppTierImage({
      prefix: config.resources.prefix,
      instanceId: opts.instance,
      clients,
      session,
    });
    console.log(`next: npm run aws:provision -- --allow-cidr <cidr> --ami ${ami}`);
  });

program
  .command('web')
  .description('launch the web instance (web tier and autoscaler), or report the running one')
  .option('--ami <id>', "AMI (default: the launch template's)", amiId)
  .option('--instance-type <type>', 'web instance type', 't3.micro')
  .option('--env-file <file>', 'the deployment file (default: facefleet.<prefix>.env)')
  .action(async (opts: { ami?: string; instanceType: string; envFile?: string }) => {
    const { config, clients, session } = setUp(program.opts<Common>());
    const file = opts.envFile ?? deploymentFileName(config);
    if (!existsSync(file)) fail(`${file} does not exist: run npm run aws:provision first (it writes it).`);
    const { amiId, securityGroupId } = await webInstancePrerequisites({
      prefix: config.resources.prefix,
      clients,
      session,
      amiId: opts.ami,
    });
    const instance = await ensureWebInstance({
      config,
      clients,
      session,
      deploymentFileText: await readFile(file, 'utf8'),
      amiId,
      instanceType: opts.instanceType,
      securityGroupId,
    });
    console.log(session.summary());
    if (instance?.PublicIpAddress) {
      const url = `http://${instance.PublicIpAddress}:8000/`;
      console.log(`${WEB_INSTANCE_NAME}: ${url} (ready a minute or two after boot; GET ${url}readyz)`);
      console.log(`workload: npm run workload -- --images DIR --labels CSV --url ${url}`);
    }
  });

program
  .command('warm-pool')
  .description('pre-create stopped app-tier instances for WARM_POOL=true')
  .requiredOption('--size <n>', 'app-tier instances the pool should hold (the fleet maximum, e.g. 19)', positiveInt)
  .option('--env-file <file>', 'the deployment file (default: facefleet.<prefix>.env)')
  .action(async (opts: { size: number; envFile?: string }) => {
    const { config, clients, session } = setUp(program.opts<Common>());
    const file = opts.envFile ?? deploymentFileName(config);
    const template = existsSync(file) ? launchTemplateOf(await readFile(file, 'utf8')) : undefined;
    if (!template) fail(`${file} names no launch template: run npm run aws:provision with --ami first.`);
    await ensureWarmPool({
      prefix: config.resources.prefix,
      size: opts.size,
      launchTemplateId: template,
      clients,
      session,
    });
    console.log(session.summary());
    console.log('the autoscaler uses the pool with WARM_POOL=true in /etc/facefleet/web.env (then restart it)');
  });

program
  .command('status')
  .description("the queues' depths, instances by state, objects per bucket")
  .action(async () => {
    const { config, clients, session } = setUp(program.opts<Common>(), { quiet: true });
    console.log(formatStatus(await deploymentStatus({ prefix: config.resources.prefix, clients, session })));
  });

program
  .command('policy')
  .description('print an IAM policy of this deployment (web: the web tier and autoscaler, on AWS or off it; worker)')
  .argument('<which>', 'web or worker')
  .requiredOption('--account <id>', 'the AWS account id (12 digits)')
  .action((which: string, opts: { account: string }) => {
    if (which !== 'web' && which !== 'worker') fail('the policy is web or worker.');
    if (!/^\d{12}$/.test(opts.account)) fail('--account must be the 12-digit account id.');
    const { config } = setUp(program.opts<Common>(), { quiet: true });
    const where = { prefix: config.resources.prefix, region: config.aws.region, account: opts.account };
    console.log(JSON.stringify(which === 'web' ? webPolicy(where) : workerPolicy(where), null, 2));
  });

program
  .command('teardown')
  .description(
    'delete everything provisioning and the fleet created (instances, template, IAM, groups, queues, buckets)',
  )
  .option('--yes', 'do not ask for confirmation', false)
  .action(async (opts: { yes: boolean }) => {
    const { config, clients, session } = setUp(program.opts<Common>());
    const prefix = config.resources.prefix;
    if (!opts.yes && !session.dryRun) await confirm(prefix, config.aws.region);
    await teardown({ prefix, clients, session });
    console.log(session.summary());
  });

interface ProvisionCli {
  allowCidr: string;
  ami?: string;
  instanceType: string;
  vpcId?: string;
  out?: string;
  group?: boolean;
  warmPool: number;
  subnets?: string;
  webGroup?: boolean;
  webInstanceType: string;
  ssm?: boolean;
  logs?: boolean;
}

function setUp(common: Common, options: { quiet?: boolean } = {}, extraEnv: Record<string, string> = {}) {
  let config: Config;
  try {
    const env: Record<string, string | undefined> = {
      ...process.env,
      FACEFLEET_STACK: 'aws',
      ...(common.region ? { AWS_REGION: common.region } : {}),
      ...(common.prefix ? { RESOURCE_PREFIX: common.prefix } : {}),
      ...extraEnv,
    };
    // With a group, the workers' environment names it (their instances protect themselves and drain in it).
    if (extraEnv['FLEET_DRIVER'] === 'asg') env['APP_TIER_GROUP'] = loadConfig(env).fleet.group.name;
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  // Deployment calls are few and some (IAM) are tightly rate-limited: retry more, backing off adaptively.
  const retries = { region: config.aws.region, maxAttempts: 8, retryMode: 'adaptive' as const };
  const clients: AwsClients = {
    s3: createS3Client(config),
    sqs: createSqsClient(config),
    iam: new IAMClient(retries),
    ec2: new EC2Client(retries),
    dynamodb: new DynamoDBClient(retries),
    autoscaling: new AutoScalingClient(retries),
    elb: new ElasticLoadBalancingV2Client(retries),
  };
  const session = new Session(common.dryRun, options.quiet ? () => undefined : (line) => console.log(line));
  if (!options.quiet) {
    console.log(
      `${common.dryRun ? 'dry run: ' : ''}deployment "${config.resources.prefix}" in ${config.aws.region}` +
        (config.aws.endpoint ? ` (S3/SQS at ${config.aws.endpoint})` : ''),
    );
  }
  return { config, clients, session };
}

async function confirm(prefix: string, region: string): Promise<void> {
  if (!process.stdin.isTTY)
    fail('teardown deletes the deployment and its data: pass --yes to run it without a terminal.');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(
    `This deletes every instance, the buckets with all their objects, the queues, roles and groups of ` +
      `"${prefix}" in ${region}. Type the prefix to go on: `,
  );
  rl.close();
  if (answer.trim() !== prefix) fail('not confirmed; nothing was deleted.');
}

function fail(message: string): never {
  console.error(`aws: ${message}`);
  process.exit(2);
}

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof DeployError) {
    console.error(`aws: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
