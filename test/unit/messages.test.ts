import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  fileStem,
  MAX_FILE_NAME_CHARS,
  MAX_REQUEST_MESSAGE_BYTES,
  safeFileName,
} from '../../src/shared/messages.js';

describe('request messages', () => {
  it('round-trip, recognizing the subject unless told otherwise', () => {
    const m = { v: 2 as const, requestId: randomUUID(), key: 'k/test_00.jpg', stem: 'test_00', sentAt: 1 };
    expect(decodeRequest(encodeRequest(m))).toEqual({ ...m, task: 'recognize', faces: 'subject' });
    const enroll = { ...m, task: 'enroll' as const, faces: 'all' as const };
    expect(decodeRequest(encodeRequest(enroll))).toEqual(enroll);
  });

  it('stay under the course queue limit even with the longest file name', () => {
    const name = safeFileName('é'.repeat(500) + '.jpg');
    const requestId = randomUUID();
    const body = encodeRequest({
      v: 2,
      task: 'enroll',
      faces: 'subject',
      requestId,
      key: `${requestId}/${name}`,
      stem: fileStem(name),
      sentAt: Date.now(),
    });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_REQUEST_MESSAGE_BYTES);
  });

  it.each([
    ['not json'],
    ['{}'],
    [JSON.stringify({ v: 1, requestId: randomUUID(), key: 'k', stem: 's', sentAt: 1 })],
    [JSON.stringify({ v: 2, requestId: randomUUID(), key: 'k', stem: 's', sentAt: 1, task: 'delete' })],
    [undefined],
  ])('refuses %s', (body) => expect(decodeRequest(body)).toBeUndefined());
});

describe('response messages', () => {
  const base = { v: 2 as const, requestId: randomUUID(), stem: 'test_00', workerId: 'w1', timings: { detectMs: 3 } };
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
