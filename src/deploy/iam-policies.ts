/**
 * Where the IAM policies are written: the deployment's least-privilege policies, as pure functions of the
 * prefix, region and account: only our buckets and queues, and EC2 changes only on instances that carry our fleet tag. docs/deployment.md
 * shows these documents in full (for PREFIX, REGION, ACCOUNT); a test keeps the two identical.
 */
import { FLEET_TAG } from '../autoscaler/ec2-fleet.js';
import { replyQueuePrefix } from '../shared/wire/reply-queues.js';
import { deploymentNames } from './names.js';

export interface Where {
  readonly prefix: string;
  readonly region: string;
  readonly account: string;
}

const bucketArn = (name: string) => `arn:aws:s3:::${name}`;
const queueArn = (w: Where, name: string) => `arn:aws:sqs:${w.region}:${w.account}:${name}`;
/** A DynamoDB table's ARN (the student records). */
export const tableArn = (w: Where, name: string) => `arn:aws:dynamodb:${w.region}:${w.account}:table/${name}`;
const groupArn = (w: Where, name: string) =>
  `arn:aws:autoscaling:${w.region}:${w.account}:autoScalingGroup:*:autoScalingGroupName/${name}`;

/** Lets EC2 instances take the role (through their instance profile). */
export const EC2_TRUST_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** The web tier and the autoscaler, on the web instance. */
export function webPolicy(w: Where) {
  const n = deploymentNames(w.prefix);
  const ec2 = (type: string) => `arn:aws:ec2:${w.region}:${w.account}:${type}/*`;
  return {
    Version: '2012-10-17',
    Statement: [
      // AbortMultipartUpload: a large video goes up in parts (lib-storage), and a failed upload aborts its parts,
      // which S3 bills until then.
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: `${bucketArn(n.inBucket)}/*` },
      {
        Effect: 'Allow',
        Action: 's3:DeleteObject',
        // Enrollment photos go with their face, or when no gallery entry uses them (an enrollment interrupted by a
        // crash); an upload that could not be queued goes at once.
        Resource: [`${bucketArn(n.inBucket)}/enrollment/*`, `${bucketArn(n.inBucket)}/uploads/*`],
      },
      // Collections: manifests and segments are written, read and deleted (a removed collection, compaction's
      // leftovers) by the web tier alone.
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        Resource: `${bucketArn(n.galleryBucket)}/collections/*`,
      },
      // An older deployment's gallery.json is moved into the default collection once, and kept under legacy/.
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:DeleteObject'],
        Resource: `${bucketArn(n.galleryBucket)}/gallery.json`,
      },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: `${bucketArn(n.galleryBucket)}/legacy/*` },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: [bucketArn(n.inBucket), bucketArn(n.outBucket), bucketArn(n.galleryBucket)],
      },
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Resource: queueArn(w, n.requestQueue),
      },
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Resource: queueArn(w, n.responseQueue),
      },
      // Several web processes or instances: each creates, tags (its heartbeat), reads and deletes a reply queue of
      // its own; the reaper lists the project's reply queues and deletes those of dead processes.
      {
        Effect: 'Allow',
        Action: [
          'sqs:CreateQueue',
          'sqs:TagQueue',
          'sqs:ListQueueTags',
          'sqs:DeleteQueue',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
        ],
        Resource: queueArn(w, `${replyQueuePrefix(w.prefix)}*`),
      },
      // ListQueues names no queue (it is filtered by prefix): IAM takes no resource for it.
      { Effect: 'Allow', Action: 'sqs:ListQueues', Resource: '*' },
      { Effect: 'Allow', Action: 'sqs:GetQueueUrl', Resource: queueArn(w, n.deadLetterQueue) },
      // POST /videos queues its video there, the autoscaler counts it, and the answer may be the stored CSV.
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Resource: queueArn(w, n.videoQueue),
      },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucketArn(n.outBucket)}/rosters/*` },
      { Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
      {
        Effect: 'Allow',
        Action: 'ec2:RunInstances',
        Resource: ec2('instance'),
        Condition: { StringEquals: { [`aws:RequestTag/${FLEET_TAG}`]: w.prefix } },
      },
      {
        Effect: 'Allow',
        Action: 'ec2:RunInstances',
        Resource: [
          `arn:aws:ec2:${w.region}::image/*`,
          ec2('launch-template'),
          ec2('subnet'),
          ec2('security-group'),
          ec2('network-interface'),
          ec2('volume'),
        ],
      },
      {
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: ec2('instance'),
        Condition: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
      },
      {
        Effect: 'Allow',
        Action: ['ec2:TerminateInstances', 'ec2:StartInstances', 'ec2:StopInstances'],
        Resource: ec2('instance'),
        Condition: { StringEquals: { [`ec2:ResourceTag/${FLEET_TAG}`]: w.prefix } },
      },
      // The asg driver: this group's desired capacity and its instances' termination, nothing of other groups.
      // Describe calls take no resource in IAM.
      { Effect: 'Allow', Action: 'autoscaling:DescribeAutoScalingGroups', Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
        Resource: groupArn(w, n.appTierGroup),
      },
      {
        // The group names its instances `app-tier-instance`; the driver numbers them, and may change no other tag.
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: ec2('instance'),
        Condition: {
          StringEquals: { [`ec2:ResourceTag/${FLEET_TAG}`]: w.prefix },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['Name'] },
        },
      },
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: `arn:aws:iam::${w.account}:role/${n.workerRole}`,
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      },
    ],
  };
}

/** The app-tier workers. */
export function workerPolicy(w: Where) {
  const n = deploymentNames(w.prefix);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        // Workers read collections (manifests and segments); they never write one.
        Resource: [`${bucketArn(n.inBucket)}/*`, `${bucketArn(n.galleryBucket)}/collections/*`],
      },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: `${bucketArn(n.outBucket)}/*` },
      // A worker that built a collection's index stores it there for the next ones (docs/collections.md).
      { Effect: 'Allow', Action: 's3:PutObject', Resource: `${bucketArn(n.galleryBucket)}/collections/*/index/*` },
      // ListBucket on the in-bucket too: without it S3 answers a missing key 403, not 404, so a deleted upload was
      // retried until RECOGNITION_FAILED instead of answered IMAGE_GONE (S3 User Guide, GetObject permissions).
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: [bucketArn(n.galleryBucket), bucketArn(n.inBucket)] },
      {
        Effect: 'Allow',
        // ChangeMessageVisibility: the heartbeat that keeps a slow batch's messages hidden while they are handled.
        Action: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
        ],
        // The video queue: POST /videos's requests, and S3's events of videos put under videos/.
        Resource: [queueArn(w, n.requestQueue), queueArn(w, n.videoQueue)],
      },
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:GetQueueUrl'],
        // The canonical response queue, and the web processes' own reply queues.
        Resource: [queueArn(w, n.responseQueue), queueArn(w, `${replyQueuePrefix(w.prefix)}*`)],
      },
      { Effect: 'Allow', Action: 'sqs:GetQueueUrl', Resource: queueArn(w, n.deadLetterQueue) },
      // The students' records for a video's CSV: read only, this table only (`npm run students` writes with the
      // operator's own credentials).
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
        Resource: tableArn(w, n.studentsTable),
      },
      {
        // In the asg mode: protect its instance while busy, complete its termination once drained. IAM cannot
        // tie the instance id in these calls to the caller's own instance: the reach is this group only.
        Effect: 'Allow',
        Action: [
          'autoscaling:SetInstanceProtection',
          'autoscaling:CompleteLifecycleAction',
          'autoscaling:RecordLifecycleActionHeartbeat',
        ],
        Resource: groupArn(w, n.appTierGroup),
      },
    ],
  };
}
