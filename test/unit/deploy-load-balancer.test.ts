/**
 * The web group behind a load balancer (deploy/load-balancer.ts), against an in-memory ELBv2, Auto Scaling
 * and EC2 behind aws-sdk-client-mock (no local emulator has them): what is created, that a second run changes
 * nothing, that a changed setting changes only itself, the timeouts' rule, the web group instances'
 * environment, and the teardown.
 */
import { DescribeSubnetsCommand, EC2Client, type Subnet } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/shared/config/config.js';
import { frontDoorTimeouts } from '../../src/shared/config/front-door-timeouts.js';
import {
  deleteLoadBalancer,
  ensureLoadBalancer,
  ensureWebGroup,
  requestCountLabel,
  subnetsInTwoZones,
  webGroupTimeouts,
  type WebGroupSpec,
} from '../../src/deploy/load-balancer.js';
import { deploymentNames, elbName } from '../../src/deploy/names.js';
import { Session } from '../../src/deploy/session.js';
import { webGroupEnvironment, webGroupLaunchData } from '../../src/deploy/web-environment.js';
import { wantsOwnQueue } from '../../src/web-tier/app-tier-client/reply-queue.js';
import { fakeLoadBalancing } from '../helpers/fake-load-balancing.js';

const config = loadConfig({ FACEFLEET_STACK: 'aws', AWS_REGION: 'us-west-2', RESOURCE_PREFIX: 'asu1234' });
const names = deploymentNames('asu1234');

/** The load balancing of a fake account, and its subnets: two in one availability zone, one in each of two more. */
function fakeAccount() {
  const account = fakeLoadBalancing();
  const ec2 = mockClient(EC2Client);
  const subnets: Subnet[] = [
    { SubnetId: 'subnet-a2', AvailabilityZone: 'us-west-2a' },
    { SubnetId: 'subnet-a1', AvailabilityZone: 'us-west-2a' },
    { SubnetId: 'subnet-b1', AvailabilityZone: 'us-west-2b' },
    { SubnetId: 'subnet-c1', AvailabilityZone: 'us-west-2c' },
  ];
  ec2.on(DescribeSubnetsCommand).callsFake(async () => ({ Subnets: subnets }));
  return { ...account, subnets, clients: { ...account.clients, ec2: new EC2Client({ region: 'us-west-2' }) } };
}

type Account = ReturnType<typeof fakeAccount>;

async function provisionWebGroup(account: Account, overrides: Partial<WebGroupSpec> = {}) {
  const session = new Session(false, () => undefined);
  const { elb, autoscaling, ec2 } = account.clients;
  const spec: WebGroupSpec = {
    names,
    prefix: 'asu1234',
    vpcId: 'vpc-1',
    subnetIds: await subnetsInTwoZones(ec2, session, 'vpc-1'),
    loadBalancerSecurityGroupId: 'sg-alb',
    launchTemplateId: 'lt-web',
    minSize: config.web.group.minSize,
    maxSize: config.web.group.maxSize,
    requestsPerTarget: config.web.group.requestsPerTarget,
    ...webGroupTimeouts(config),
    ...overrides,
  };
  const arns = await ensureLoadBalancer({ elb, session }, spec);
  await ensureWebGroup({ autoscaling, session }, spec, arns);
  return { session, arns, spec };
}

const CHANGES = /^(Create|Modify|Put|Update|Attach|Delete)/;

describe('the web group behind a load balancer', () => {
  let account: Account;
  beforeEach(() => {
    account = fakeAccount();
  });

  it('puts a load balancer on port 8000 over two zones in front of a group that tracks requests per instance', async () => {
    const { arns } = await provisionWebGroup(account);
    const group = account.targetGroups.get(names.webTargetGroup)!;
    expect(group).toMatchObject({
      Protocol: 'HTTP',
      Port: 8000,
      VpcId: 'vpc-1',
      HealthCheckPath: '/readyz',
      Matcher: { HttpCode: '200' },
    });
    const balancer = account.balancers.get(names.loadBalancer)!;
    // One subnet in each of two availability zones, the first of each.
    expect(balancer.subnets).toEqual(['subnet-a1', 'subnet-b1']);
    expect(balancer.listeners).toEqual([
      expect.objectContaining({
        Protocol: 'HTTP',
        Port: 8000,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: arns.targetGroupArn }],
      }),
    ]);
    const web = account.groups.get(names.webGroup)!;
    expect(web).toMatchObject({
      MinSize: 2,
      MaxSize: 4,
      DesiredCapacity: 2,
      HealthCheckType: 'ELB',
      TargetGroupARNs: [arns.targetGroupArn],
      VPCZoneIdentifier: 'subnet-a1,subnet-b1',
      LaunchTemplate: { LaunchTemplateId: 'lt-web', Version: '$Default' },
    });
    const policy = account.policies.get(names.webScalingPolicy)!;
    expect(policy.PolicyType).toBe('TargetTrackingScaling');
    expect(policy.TargetTrackingConfiguration).toEqual({
      PredefinedMetricSpecification: {
        PredefinedMetricType: 'ALBRequestCountPerTarget',
        ResourceLabel: `app/${names.loadBalancer}/lb1/targetgroup/${names.webTargetGroup}/tg0`,
      },
      TargetValue: 9000,
    });
  });

  it('times the load balancer so that neither side cuts what the other holds', async () => {
    await provisionWebGroup(account);
    const idle = Number(account.balancers.get(names.loadBalancer)!.attributes.get('idle_timeout.timeout_seconds'));
    const drain = Number(
      account.targetGroups.get(names.webTargetGroup)!.attributes.get('deregistration_delay.timeout_seconds'),
    );
    const longestWait = Math.max(config.web.resultTimeoutSeconds, config.video.resultTimeoutSeconds);
    // A request waiting for its answer sends nothing for up to the longest wait: the idle timeout is longer.
    expect(idle).toBeGreaterThan(longestWait);
    // The web tier's keep-alive outlasts the load balancer's idle timeout: it never closes a socket the
    // load balancer may still send on.
    expect(frontDoorTimeouts(config).keepAliveSeconds).toBeGreaterThan(idle);
    // A web instance being removed keeps what it holds for the longest upload and its wait.
    expect(drain).toBeGreaterThanOrEqual(config.web.uploadTimeoutSeconds + longestWait);
    expect(drain).toBeLessThanOrEqual(3600);
  });

  it('changes nothing on a second run, and only what differs when a setting changed', async () => {
    await provisionWebGroup(account);
    account.log.length = 0;
    const again = await provisionWebGroup(account);
    expect(account.log.filter((c) => CHANGES.test(c))).toEqual([]);
    expect(again.session.reports.every((r) => r.outcome === 'unchanged')).toBe(true);
    account.log.length = 0;
    await provisionWebGroup(account, { maxSize: 6, requestsPerTarget: 6000 });
    expect(account.log.filter((c) => CHANGES.test(c))).toEqual(['UpdateAutoScalingGroup', 'PutScalingPolicy']);
    expect(account.groups.get(names.webGroup)!.MaxSize).toBe(6);
    expect(account.policies.get(names.webScalingPolicy)!.TargetTrackingConfiguration!.TargetValue).toBe(6000);
  });

  it('needs subnets in two availability zones', async () => {
    account.subnets.splice(0, account.subnets.length, { SubnetId: 'subnet-a1', AvailabilityZone: 'us-west-2a' });
    const session = new Session(false, () => undefined);
    await expect(subnetsInTwoZones(account.clients.ec2, session, 'vpc-1')).rejects.toThrow(
      /two availability zones; pass --subnets/,
    );
  });

  it('is torn down balancer first (waiting until it is gone), then its target group; again, it is already gone', async () => {
    await provisionWebGroup(account);
    account.log.length = 0;
    const session = new Session(false, () => undefined);
    await deleteLoadBalancer({ elb: account.clients.elb, session }, names, { pollMs: 1 });
    // The target group is in use by the balancer's listener until the balancer is gone: deleted after it.
    expect(account.log.filter((c) => c.startsWith('Delete'))).toEqual(['DeleteLoadBalancer', 'DeleteTargetGroup']);
    expect(account.log.filter((c) => c === 'DescribeLoadBalancers').length).toBeGreaterThanOrEqual(3);
    expect(account.balancers.size).toBe(0);
    expect(account.targetGroups.size).toBe(0);
    const again = new Session(false, () => undefined);
    await deleteLoadBalancer({ elb: account.clients.elb, session: again }, names, { pollMs: 1 });
    expect(again.reports.map((r) => r.outcome)).toEqual(['already gone', 'already gone']);
  });

  it('names the metric over the load balancer and its target group', () => {
    expect(
      requestCountLabel(
        'arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188',
        'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-tg/73e2d6bc24d8a067',
      ),
    ).toBe('app/my-alb/50dc6c495c0c9188/targetgroup/my-tg/73e2d6bc24d8a067');
    expect(() => requestCountLabel('arn:aws:ec2:::instance/i-1', 'x')).toThrow(/application load balancer/);
  });

  it('keeps load balancer and target group names within 32 characters, whatever the prefix', () => {
    const long = deploymentNames('a-forty-character-prefix-for-this-test-x');
    for (const name of [long.loadBalancer, long.webTargetGroup]) {
      expect(name.length).toBeLessThanOrEqual(32);
      expect(name).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
    }
    expect(long.loadBalancer).not.toBe(deploymentNames('a-forty-character-prefix-for-this-test-y').loadBalancer);
    expect(elbName('asu1234', 'alb')).toBe('asu1234-alb');
  });
});

describe('a web group instance', () => {
  it('runs the web tier alone, on a reply queue of its own, and finds the web instance for the rest', () => {
    const env = webGroupEnvironment(config, 'lt-app');
    expect(env).toMatchObject({ WEB_GROUP_MEMBER: 'true', REPLY_QUEUE: 'own', PORT: '8000' });
    expect(env['MONITOR_URL']).toBeUndefined();
    const member = loadConfig(env);
    expect(member.web.groupMember).toBe(true);
    expect(wantsOwnQueue(member)).toBe(true);
    const data = webGroupLaunchData({
      config,
      names,
      amiId: 'ami-0123456789abcdef0',
      instanceType: 't3.small',
      securityGroupId: 'sg-web',
      appTierLaunchTemplateId: 'lt-app',
    });
    const userData = Buffer.from(data.UserData!, 'base64').toString('utf8');
    expect(userData).toContain('systemctl enable --now facefleet-web.service\n');
    expect(userData).toContain('WEB_GROUP_MEMBER=true');
    expect(data).toMatchObject({ IamInstanceProfile: { Name: names.webRole }, SecurityGroupIds: ['sg-web'] });
  });

  it('is one web process of several, not the course’s one, so it never uses the shared response queue', () => {
    expect(() => loadConfig({ WEB_GROUP_MEMBER: 'true', REPLY_QUEUE: 'shared' })).toThrow(
      /REPLY_QUEUE \(got "shared"\): cannot be shared in a web group/,
    );
  });
});
