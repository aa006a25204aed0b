/** --ssm and --logs: AWS's managed policies for Session Manager and the CloudWatch agent, detached before a role goes. */
import {
  AttachRolePolicyCommand,
  DetachRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deleteRole, SSM_MANAGED_POLICY } from '../../src/deploy/iam-roles.js';
import { Session } from '../../src/deploy/session.js';

const iam = mockClient(IAMClient);
const deployment = () => ({
  clients: { iam: new IAMClient({ region: 'us-east-1' }) } as never,
  session: new Session(false, () => undefined),
});

beforeEach(() => iam.reset());

describe('Session Manager', () => {
  it('is AWS’s managed policy for the SSM agent', () => {
    expect(SSM_MANAGED_POLICY).toBe('arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore');
  });

  it('is detached before a role is deleted (IAM refuses to delete a role with a managed policy)', async () => {
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [{ PolicyArn: SSM_MANAGED_POLICY }] });
    await deleteRole(deployment(), 'asu1234-worker');
    expect(iam.commandCalls(DetachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: 'asu1234-worker', PolicyArn: SSM_MANAGED_POLICY },
      { RoleName: 'asu1234-worker', PolicyArn: 'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy' },
    ]);
    expect(iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(0);
  });
});
