import { randomUUID } from 'node:crypto';
import { replyQueueName } from '../../src/shared/wire/reply-queues.js';
import { describe, expect, it } from 'vitest';
import {
  decodeFileNameMetadata,
  decodeRequest,
  decodeResponse,
  encodeFileNameMetadata,
  encodeRequest,
  encodeResponse,
  fileStem,
  inBucketKey,
  KEY_NAME_MAX_BYTES,
  MAX_FILE_NAME_CHARS,
  MAX_REQUEST_MESSAGE_BYTES,
  safeFileName,
  sqsSafeJson,
} from '../../src/shared/wire/messages.js';

describe('request messages', () => {
  it('round-trip, recognizing the subject unless told otherwise', () => {
    const m = { v: 3 as const, requestId: randomUUID(), key: 'k/test_00.jpg', sentAt: 1 };
    expect(decodeRequest(encodeRequest(m))).toEqual({
      ...m,
      task: 'recognize',
      faces: 'subject',
      collection: 'default',
    });
    const enroll = { ...m, task: 'enroll' as const, faces: 'all' as const, collection: 'staff' };
    expect(decodeRequest(encodeRequest(enroll))).toEqual(enroll);
  });

  it.each([['é'.repeat(500)], ['漢'.repeat(150)], ['😀'.repeat(200)], ['"\\'.repeat(150)], ['a'.repeat(500)]])(
    'stay under the course queue limit whatever the file name (%s…)',
    (raw) => {
      const name = safeFileName(`${raw}.jpg`);
      const requestId = randomUUID();
      const key = inBucketKey(requestId, name);
      // The longest collection name too, and the longest reply queue name (a 40-character prefix).
      const collection = 'c'.repeat(64);
      const replyTo = replyQueueName('p'.repeat(40), 'w64-zzzzzzzz');
      const body = encodeRequest({
        v: 3,
        task: 'enroll',
        faces: 'subject',
        requestId,
        key,
        sentAt: Date.now(),
        collection,
        replyTo,
      });
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_REQUEST_MESSAGE_BYTES);
      // Nothing above U+FFFF reaches the queue (the emulator refuses it), and the key comes back whole.
      expect([...body].every((c) => c.codePointAt(0)! <= 0xfffd)).toBe(true);
      expect(decodeRequest(body)?.key).toBe(key);
      // The key keeps a prefix of the name, cut between characters.
      expect(name.startsWith(key.slice(requestId.length + 1))).toBe(true);
      expect(Buffer.byteLength(sqsSafeJson(key.slice(requestId.length + 1))) - 2).toBeLessThanOrEqual(
        KEY_NAME_MAX_BYTES,
      );
    },
  );

  it('keep short names whole in the key', () => {
    expect(inBucketKey('r', 'test_000.jpg')).toBe('r/test_000.jpg');
    expect(inBucketKey('r', '😀test.jpg')).toBe('r/😀test.jpg');
  });

  it.each([
    ['not json'],
    ['{}'],
    [JSON.stringify({ v: 2, requestId: randomUUID(), key: 'k', stem: 's', sentAt: 1 })],
    [JSON.stringify({ v: 3, requestId: randomUUID(), key: 'k', sentAt: 1, task: 'delete' })],
    [undefined],
  ])('refuses %s', (body) => expect(decodeRequest(body)).toBeUndefined());
});

describe('file names in metadata', () => {
  it.each([['test_000.jpg'], ['😀test.jpg'], ['漢'.repeat(200)], ['a b "c".jpg']])('round-trip %s', (name) => {
    const value = encodeFileNameMetadata(name);
    expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeFileNameMetadata(value)).toBe(name);
  });

  it('are at most 1,068 ASCII characters for the longest name, under S3 metadata limit of 2 KB', () => {
    expect(encodeFileNameMetadata('😀'.repeat(MAX_FILE_NAME_CHARS)).length).toBeLessThanOrEqual(1068);
  });

  it.each([[undefined], [''], ['not base64!'], [Buffer.from([0xff, 0xfe]).toString('base64url')]])(
    'give nothing for %j',
    (value) => expect(decodeFileNameMetadata(value)).toBeUndefined(),
  );
});

describe('response messages', () => {
  const base = { v: 3 as const, requestId: randomUUID(), stem: 'test_00', workerId: 'w1', timings: { detectMs: 3 } };
  it('carry every face with its candidates, or a catalogue error code', () => {
    const face = {
      box: [1, 2, 30, 40] as [number, number, number, number],
      score: 0.99,
      label: 'Paul',
      similarity: 0.9,
      candidates: [{ name: 'Paul', similarity: 0.9 }],
    };
    const ok = {
      ...base,
      status: 'ok' as const,
      task: 'recognize' as const,
      image: { width: 64, height: 64 },
      facesFound: 1,
      faces: [face],
      label: 'Paul',
      similarity: 0.9,
      galleryVersion: 3,
    };
    expect(decodeResponse(encodeResponse(ok))).toEqual(ok);
    const error = { ...base, status: 'error' as const, code: 'NO_FACE' as const, params: {} };
    expect(decodeResponse(encodeResponse(error))).toEqual(error);
    expect(decodeResponse(JSON.stringify({ ...error, code: 'MADE_UP' }))).toBeUndefined();
  });
});

describe('safeFileName and fileStem', () => {
  it.each([
    ['test_00.jpg', 'test_00.jpg', 'test_00'],
    ['../../etc/passwd', 'passwd', 'passwd'],
    ['C:\\photos\\me.png', 'me.png', 'me'],
    ['a\u0000b\r\n.jpg', 'ab.jpg', 'ab'],
    ['', 'upload', 'upload'],
    ['.hidden', '.hidden', '.hidden'],
    ['archive.tar.gz', 'archive.tar.gz', 'archive.tar'],
  ])('%j is the label %j with stem %j', (raw, name, stem) => {
    expect(safeFileName(raw)).toBe(name);
    expect(fileStem(safeFileName(raw))).toBe(stem);
  });

  it('trims very long names', () => {
    expect([...safeFileName('x'.repeat(1000))]).toHaveLength(MAX_FILE_NAME_CHARS);
  });
});
