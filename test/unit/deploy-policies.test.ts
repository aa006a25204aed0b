/** The deployment's IAM policies name only our resources; docs/deployment.md shows them exactly; the web units hold no secrets. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FLEET_TAG } from '../../src/autoscaler/ec2-fleet.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { EC2_TRUST_POLICY, webPolicy, workerPolicy } from '../../src/deploy/iam-policies.js';
import { renderWebUserData, WEB_UNITS } from '../../src/deploy/web-environment.js';

const where = { prefix: 'asu1234', region: 'us-west-2', account: '123456789012' };
type Statement = { Action: string | string[]; Resource: string | string[]; Condition?: object };
const statements = (policy: { Statement: Statement[] }) =>
  policy.Statement.map((s) => ({
    ...s,
    actions: [s.Action].flat(),
    resources: [s.Resource].flat(),
  }));

describe('IAM policies', () => {
  it.each([
    ['web', webPolicy(where)],
    ['worker', workerPolicy(where)],
  ])('%s: S3 and SQS only on this deployment’s buckets and queues', (_name, policy) => {
    for (const s of statements(policy)) {
      for (const r of s.resources) {
        if (r.startsWith('arn:aws:s3:::')) expect(r).toMatch(/^arn:aws:s3:::asu1234-(in|out|gallery)-bucket(\/.*)?$/);
        if (r.startsWith('arn:aws:sqs:'))
          expect(r).toMatch(
            /^arn:aws:sqs:us-west-2:123456789012:asu1234-(req|resp|video)-(queue|dlq)$|^arn:aws:sqs:us-west-2:123456789012:asu1234-req-dlq$|^arn:aws:sqs:us-west-2:123456789012:asu1234-resp-w\*$/,
          );
      }
      // ListQueues names no queue: the one action on SQS that takes no resource.
      if (s.actions.some((a) => a.startsWith('s3:') || (a.startsWith('sqs:') && a !== 'sqs:ListQueues'))) {
        expect(s.resources.every((r) => r.includes('asu1234'))).toBe(true);
      }
    }
  });

  it('lets the autoscaler change only instances carrying our fleet tag, and pass only the worker role', () => {
    const s = statements(webPolicy(where));
    const anywhere = s.filter((x) => x.resources.includes('*'));
    // Describe calls take no resource in IAM.
    expect(anywhere.flatMap((x) => x.actions)).toEqual([
      'sqs:ListQueues',
      'ec2:DescribeInstances',
      'autoscaling:DescribeAutoScalingGroups',
    ]);
    const group = s.find((x) => x.actions.includes('autoscaling:SetDesiredCapacity'))!;
    expect(group.resources).toEqual([
      'arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:*:autoScalingGroupName/asu1234-app-tier',
    ]);
    // Naming the group's instances: the Name tag only, on our instances only.
    expect(s.filter((x) => x.actions.includes('ec2:CreateTags')).map((x) => x.Condition)).toContainEqual({
      StringEquals: { [`ec2:ResourceTag/${FLEET_TAG}`]: 'asu1234' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['Name'] },
    });
    const lifecycle = s.find((x) => x.actions.includes('ec2:TerminateInstances'))!;
    expect(lifecycle.Condition).toEqual({ StringEquals: { [`ec2:ResourceTag/${FLEET_TAG}`]: 'asu1234' } });
    const launch = s.find(
      (x) => x.actions.includes('ec2:RunInstances') && x.resources.some((r) => r.endsWith(':instance/*')),
    )!;
    expect(launch.Condition).toEqual({ StringEquals: { [`aws:RequestTag/${FLEET_TAG}`]: 'asu1234' } });
    const pass = s.find((x) => x.actions.includes('iam:PassRole'))!;
    expect(pass.resources).toEqual(['arn:aws:iam::123456789012:role/asu1234-worker']);
    expect(s.flatMap((x) => x.actions).filter((a) => a.startsWith('iam:'))).toEqual(['iam:PassRole']);
  });

  it('lets the web role create, tag and delete only the reply queues, and workers send only to them', () => {
    const replyQueues = 'arn:aws:sqs:us-west-2:123456789012:asu1234-resp-w*';
    const web = statements(webPolicy(where));
    for (const action of ['sqs:CreateQueue', 'sqs:TagQueue', 'sqs:DeleteQueue']) {
      const granting = web.filter((x) => x.actions.includes(action));
      expect(granting.flatMap((x) => x.resources)).toEqual([replyQueues]);
    }
    const worker = statements(workerPolicy(where));
    expect(worker.flatMap((x) => x.actions)).not.toContain('sqs:CreateQueue');
    const send = worker.filter((x) => x.actions.includes('sqs:SendMessage'));
    expect(send.flatMap((x) => x.resources)).toEqual([
      'arn:aws:sqs:us-west-2:123456789012:asu1234-resp-queue',
      replyQueues,
    ]);
  });

  it('gives workers no EC2 or IAM rights at all, Auto Scaling rights on their own group only, and the records to read', () => {
    const s = statements(workerPolicy(where));
    const actions = s.flatMap((x) => x.actions);
    expect(actions.every((a) => /^(s3|sqs|autoscaling|dynamodb):/.test(a))).toBe(true);
    // The student records: read only, that table only.
    const records = s.filter((x) => x.actions.some((a) => a.startsWith('dynamodb:')));
    expect(records.flatMap((x) => x.actions)).toEqual(['dynamodb:GetItem', 'dynamodb:BatchGetItem']);
    expect(records.flatMap((x) => x.resources)).toEqual([
      'arn:aws:dynamodb:us-west-2:123456789012:table/asu1234-students',
    ]);
    const group = s.filter((x) => x.actions.some((a) => a.startsWith('autoscaling:')));
    expect(group.flatMap((x) => x.actions)).toEqual([
      'autoscaling:SetInstanceProtection',
      'autoscaling:CompleteLifecycleAction',
      'autoscaling:RecordLifecycleActionHeartbeat',
    ]);
    expect(group.flatMap((x) => x.resources)).toEqual([
      'arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:*:autoScalingGroupName/asu1234-app-tier',
    ]);
    expect(EC2_TRUST_POLICY.Statement[0]!.Principal).toEqual({ Service: 'ec2.amazonaws.com' });
  });

  it('are shown in full in docs/deployment.md, exactly as provisioning puts them', () => {
    const doc = readFileSync(new URL('../../docs/deployment.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### IAM policies'));
    const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].slice(0, 2).map((m) => JSON.parse(m[1]!));
    const placeholders = { prefix: 'PREFIX', region: 'REGION', account: 'ACCOUNT' };
    expect(blocks).toEqual([webPolicy(placeholders), workerPolicy(placeholders)]);
  });
});

describe('the web instance', () => {
  const file = [
    '# facefleet deployment "asu1234" in us-west-2',
    '# Request queue: https://sqs.us-west-2.amazonaws.com/123456789012/asu1234-req-queue',
    'FACEFLEET_STACK=aws',
    'AWS_REGION=us-west-2',
    'RESOURCE_PREFIX=asu1234',
    'APP_TIER_LAUNCH_TEMPLATE=lt-0123456789abcdef0',
    '',
  ].join('\n');
  const userData = renderWebUserData(file);

  it('gets the deployment variables (not its comments) in its user data, and starts both services', () => {
    expect(userData.startsWith('#!/bin/bash\n')).toBe(true);
    const env = userData.slice(userData.indexOf("<<'FACEFLEET_ENV'\n") + 18, userData.indexOf('\nFACEFLEET_ENV\n'));
    const config = loadConfig(Object.fromEntries(env.split('\n').map((l) => l.split('=') as [string, string])));
    expect(config).toMatchObject({ stack: 'aws', aws: { region: 'us-west-2' } });
    expect(config.fleet.ec2.launchTemplate).toBe('lt-0123456789abcdef0');
    expect(userData).not.toContain('Request queue');
    expect(userData).toContain(
      'systemctl enable --now facefleet-autoscaler.service facefleet-monitor.service facefleet-web.service',
    );
  });

  it.each(WEB_UNITS)('%s runs from the environment file, restarts, drains, and holds no credentials', (path) => {
    const unit = readFileSync(path, 'utf8');
    expect(unit).toContain('EnvironmentFile=/etc/facefleet/web.env');
    expect(unit).toMatch(/ExecStart=\/usr\/bin\/node --import tsx src\/(web-tier|autoscaler|monitor)\/main\.ts/);
    expect(unit).toContain('Restart=always');
    expect(unit).toContain('KillSignal=SIGTERM');
    expect(unit).toContain('User=facefleet');
    expect(`${unit}${userData}`).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AKIA[0-9A-Z]{16}/);
    // API_KEY is never set here: only named, in a comment, as what goes in the optional secrets file.
    expect(`${unit}${userData}`).not.toMatch(/^[^#\n]*API_KEY=/m);
  });
});
