/** The in-bucket's notification of videos: ours put in place, the bucket's others kept, nothing done twice. */
import { describe, expect, it } from 'vitest';
import { videoNotification, videoQueuePolicy, withVideoNotification } from '../../src/deploy/video-events.js';

const ARN = 'arn:aws:sqs:us-east-1:123456789012:p-video-queue';
const ours = videoNotification(ARN);

describe('the video notification', () => {
  it('is every object created under videos/, to the video queue', () => {
    expect(withVideoNotification({}, ours)).toEqual({
      QueueConfigurations: [
        {
          Id: 'facefleet-videos',
          QueueArn: ARN,
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'videos/' }] } },
        },
      ],
    });
  });

  it('keeps the bucket’s other notifications, and changes nothing when ours is there (S3 spells the rule Prefix)', () => {
    const theirs = {
      Id: 'audit',
      LambdaFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:audit',
      Events: ['s3:ObjectRemoved:*' as const],
    };
    const other = {
      Id: 'other',
      QueueArn: 'arn:aws:sqs:us-east-1:123456789012:other',
      Events: ['s3:ObjectCreated:Put' as const],
    };
    const next = withVideoNotification({ LambdaFunctionConfigurations: [theirs], QueueConfigurations: [other] }, ours)!;
    expect(next).toEqual({ LambdaFunctionConfigurations: [theirs], QueueConfigurations: [other, ours] });
    const asS3ReadsIt = {
      ...ours,
      // S3 answers "Prefix", which the SDK's type does not list.
      Filter: { Key: { FilterRules: [{ Name: 'Prefix' as unknown as 'prefix', Value: 'videos/' }] } },
    };
    expect(withVideoNotification({ QueueConfigurations: [other, asS3ReadsIt] }, ours)).toBeUndefined();
  });

  it('replaces ours when it drifted', () => {
    const drifted = { ...ours, QueueArn: 'arn:aws:sqs:us-east-1:123456789012:elsewhere' };
    expect(withVideoNotification({ QueueConfigurations: [drifted] }, ours)).toEqual({ QueueConfigurations: [ours] });
  });

  it('lets S3 send to the queue for this bucket of this account only', () => {
    expect(videoQueuePolicy(ARN, 'p-in-bucket', '123456789012').Statement[0]!.Condition).toEqual({
      ArnEquals: { 'aws:SourceArn': 'arn:aws:s3:::p-in-bucket' },
      StringEquals: { 'aws:SourceAccount': '123456789012' },
    });
  });
});
