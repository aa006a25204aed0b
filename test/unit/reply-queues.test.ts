/**
 * Reply addressing (shared/wire/reply-queues.ts): web ids and queue names, where a worker sends a request's reply,
 * and the reaper's decision.
 */
import { describe, expect, it } from 'vitest';
import {
  isWebId,
  newWebId,
  queueNameOf,
  reapDecision,
  REPLY_QUEUE_ROLE,
  REPLY_QUEUE_TAGS,
  replyQueueFor,
  replyQueueOfRequest,
  replyQueueName,
  replyQueuePrefix,
  webIdOfQueue,
} from '../../src/shared/wire/reply-queues.js';
import { resourceNames } from '../../src/shared/config/resources-names.js';

const names = resourceNames('facefleet');

describe('reply queue names', () => {
  it('are new at every start, and within SQS’s 80 characters for the longest prefix', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newWebId(3)));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isWebId(id)).toBe(true);
    const longest = 'p'.repeat(40);
    const name = replyQueueName(longest, newWebId(64));
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name.startsWith(replyQueuePrefix(longest))).toBe(true);
    expect(() => replyQueueName('facefleet', 'queue')).toThrow(RangeError);
  });

  it('are told apart from the canonical queue and from other deployments’ queues', () => {
    const own = replyQueueName('facefleet', 'w2-abcdefgh');
    expect(webIdOfQueue('facefleet', own)).toBe('w2-abcdefgh');
    expect(webIdOfQueue('facefleet', names.responseQueue)).toBeUndefined();
    expect(webIdOfQueue('facefleet', names.requestQueue)).toBeUndefined();
    expect(webIdOfQueue('other', own)).toBeUndefined();
    // The canonical queue never starts with the reply queues' prefix, so the reaper never lists it.
    expect(names.responseQueue.startsWith(replyQueuePrefix('facefleet'))).toBe(false);
    expect(queueNameOf(`https://sqs.us-east-1.amazonaws.com/123456789012/${own}`)).toBe(own);
    expect(queueNameOf(`http://127.0.0.1:4566/000000000000/${own}`)).toBe(own);
  });
});

describe('where a worker sends a reply', () => {
  it('goes to the canonical queue when the request names none or names it', () => {
    expect(replyQueueFor(names, undefined)).toBe(names.responseQueue);
    expect(replyQueueFor(names, names.responseQueue)).toBe(names.responseQueue);
  });

  it('goes to the web process’s own queue when it is one of this deployment’s', () => {
    const own = replyQueueName('facefleet', 'w1-0a1b2c3d');
    expect(replyQueueFor(names, own)).toBe(own);
  });

  it('goes nowhere for any other queue, so that a forged message cannot aim workers at it', () => {
    for (const forged of [names.requestQueue, names.deadLetterQueue, 'someone-elses-queue', 'other-resp-w1-0a1b2c3d'])
      expect(replyQueueFor(names, forged)).toBeUndefined();
  });

  it('reads, for the queue consumer, as its default queue, a named one, or none at all', () => {
    const own = replyQueueName('facefleet', 'w1-0a1b2c3d');
    expect(replyQueueOfRequest(names, undefined)).toBeUndefined();
    expect(replyQueueOfRequest(names, names.responseQueue)).toBeUndefined();
    expect(replyQueueOfRequest(names, own)).toBe(own);
    expect(replyQueueOfRequest(names, names.requestQueue)).toBeNull();
  });
});

describe('the reaper’s decision', () => {
  const name = replyQueueName('facefleet', 'w1-0a1b2c3d');
  const tags = (heartbeat?: number) => ({
    [REPLY_QUEUE_TAGS.role]: REPLY_QUEUE_ROLE,
    ...(heartbeat === undefined ? {} : { [REPLY_QUEUE_TAGS.heartbeat]: String(heartbeat) }),
  });
  const at = { resourcePrefix: 'facefleet', nowMs: 1_000_000, idleMs: 120_000 };

  it('deletes a queue whose owner has been silent for longer than the idle time', () => {
    const decision = reapDecision({ name, tags: tags(at.nowMs - 120_001) }, at);
    expect(decision).toMatchObject({ reap: true, silentMs: 120_001 });
    expect(decision.reason).toBe('no sign of life for 120 s');
  });

  it('keeps a queue whose owner showed a sign of life within the idle time', () => {
    expect(reapDecision({ name, tags: tags(at.nowMs - 120_000) }, at).reap).toBe(false);
    expect(reapDecision({ name, tags: tags(at.nowMs - 5_000) }, at).reap).toBe(false);
  });

  it('counts from the queue’s creation when its owner died before its first heartbeat', () => {
    expect(reapDecision({ name, tags: tags(), createdAtMs: at.nowMs - 200_000 }, at).reap).toBe(true);
    expect(reapDecision({ name, tags: tags(), createdAtMs: at.nowMs - 1_000 }, at).reap).toBe(false);
    expect(reapDecision({ name, tags: tags() }, at).reap).toBe(false);
  });

  it('never deletes its own queue, the canonical queue, an untagged queue or another deployment’s', () => {
    const old = tags(0 + 1);
    expect(reapDecision({ name, tags: old }, { ...at, ownQueue: name })).toMatchObject({ reap: false });
    expect(reapDecision({ name: names.responseQueue, tags: old }, at)).toMatchObject({ reap: false });
    expect(reapDecision({ name, tags: { [REPLY_QUEUE_TAGS.heartbeat]: '1' } }, at)).toMatchObject({
      reap: false,
      reason: 'no reply-queue tag',
    });
    expect(reapDecision({ name, tags: old }, { ...at, resourcePrefix: 'other' })).toMatchObject({ reap: false });
  });
});
