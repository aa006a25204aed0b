/**
 * The whole pipeline on real parts: fauxqs, the AWS SDK clients, the Express web tier on a real port, worker
 * processes running the ONNX models on the course images.
 */
import { readFileSync } from 'node:fs';
import { ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, createSqsClient } from '../../src/shared/aws/clients.js';
import type { LocalStack } from '../../src/local/stack.js';
import { COURSE_IMAGES, COURSE_LABELS, courseLabels } from '../helpers/fixtures.js';
import { upload } from '../helpers/http.js';
import { enroll, queueDepth, startTestStack, until } from '../helpers/stack.js';

const labels = courseLabels();
const image = (stem: string) => readFileSync(`${COURSE_IMAGES}${stem}.jpg`);

describe('the pipeline on one machine', () => {
  let stack: LocalStack;
  let url: string;
  let s3: ReturnType<typeof createS3Client>;
  let sqs: ReturnType<typeof createSqsClient>;

  beforeAll(async () => {
    stack = await startTestStack();
    url = `${stack.web.url}/`;
    s3 = createS3Client(stack.config);
    sqs = createSqsClient(stack.config);
    await stack.fleet.whenRunning(2);
  });

  afterAll(async () => {
    s3?.destroy();
    sqs?.destroy();
    await stack?.stop();
  });

  it('answers that no gallery is enrolled yet, at once and with 503', async () => {
    const res = await upload(url, image('test_000'), 'test_000.jpg');
    expect(res.status).toBe(503);
    expect(res.body).toMatch(/enroll/);
  });

  it('enrolls the labelled course set with npm run enroll, and workers pick it up without a restart', async () => {
    const out = await enroll(stack, ['--images', COURSE_IMAGES, '--labels', COURSE_LABELS]);
    expect(out).toMatch(
      /Enrolled 10 faces of 8 people from 100 images \(90 duplicates skipped, 0 refused\) into .* gallery version 1/,
    );
    await until(async () => (await upload(url, image('test_000'), 'test_000.jpg')).status === 200, 20_000, 'gallery');
  });

  it('answers one request in the course format', async () => {
    const res = await upload(url, image('test_000'), 'test_000.jpg');
    expect(res).toMatchObject({ status: 200, body: 'test_000:Paul' });
    expect(res.contentType).toMatch(/^text\/plain/);
  });

  it('keeps a non-ASCII file name intact in the answer', async () => {
    expect(await upload(url, image('test_000'), 'Zoë 写真.jpg')).toMatchObject({ status: 200, body: 'Zoë 写真:Paul' });
  });

  it('answers JSON with per-stage timings when asked', async () => {
    const res = await upload(url, image('test_001'), 'test_001.jpg', { accept: 'application/json' });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ name: 'test_001', label: 'Emily' });
    expect(body.timings.worker).toHaveProperty('detectMs');
    expect(body.timings).toHaveProperty('uploadMs');
  });

  it('answers 200 concurrent requests, each with its own correct label', async () => {
    // The fixtures' 100 names, each twice.
    const stems = Array.from({ length: 200 }, (_, i) => `test_${String(i % 100).padStart(3, '0')}`);
    const answers = await Promise.all(stems.map((s) => upload(url, image(s), `${s}.jpg`)));
    answers.forEach((a, i) => expect(a).toMatchObject({ status: 200, body: `${stems[i]}:${labels.get(stems[i]!)}` }));
    // The out-bucket holds the course layout: key = file stem, body = label.
    const object = await s3.send(new GetObjectCommand({ Bucket: stack.config.resources.outBucket, Key: stems[7] }));
    expect(await object.Body!.transformToString()).toBe(labels.get(stems[7]!));
  });

  it('never mixes up concurrent uploads of the same file name', async () => {
    const paul = image('test_000');
    const emily = image('test_001');
    const sends = Array.from({ length: 20 }, (_, i) => upload(url, i % 2 ? emily : paul, 'same.jpg'));
    const answers = await Promise.all(sends);
    answers.forEach((a, i) => expect(a.body).toBe(i % 2 ? 'same:Emily' : 'same:Paul'));
  });

  describe('bad input gets a clear error and reaches neither S3 nor SQS', () => {
    let objectsBefore: number;
    beforeAll(async () => {
      objectsBefore = await countObjects();
    });

    async function countObjects(): Promise<number> {
      const { KeyCount = 0 } = await s3.send(new ListObjectsV2Command({ Bucket: stack.config.resources.inBucket }));
      return KeyCount;
    }

    const jpeg = () => image('test_002');
    const cases: [string, () => Promise<{ status: number; body: string }>, number, RegExp][] = [
      ['no inputFile part', () => upload(url, undefined), 400, /No image was uploaded/],
      [
        'a file in another field',
        () => upload(url, jpeg(), 'a.jpg', { field: 'photo' }),
        400,
        /Unexpected file field "photo"/,
      ],
      ['an empty file', () => upload(url, new Uint8Array(0), 'empty.jpg'), 400, /empty/],
      ['a text file', () => upload(url, Buffer.from('hello, world\n'), 'note.txt'), 415, /not a JPEG, PNG or WebP/],
      [
        'an HTML file named .jpg',
        () => upload(url, Buffer.from('<!doctype html><html><body>hi</body></html>'), 'fake.jpg'),
        415,
        /"fake.jpg" is not a JPEG, PNG or WebP/,
      ],
      ['a file over the upload limit', () => upload(url, Buffer.alloc(11 * 1024 * 1024, 1), 'big.jpg'), 413, /10 MiB/],
      [
        'a decompression bomb (30000x30000 declared)',
        () => upload(url, declareSize(jpeg(), 30000, 30000), 'bomb.jpg'),
        413,
        /30000x30000/,
      ],
    ];

    it.each(cases)('%s', async (_name, send, status, message) => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.body).toMatch(message);
      expect(res.body.split(/(?<=\.)\s/).length).toBe(1);
    });

    it('says the same in JSON when the client asks for JSON', async () => {
      const res = await upload(url, Buffer.from('hello'), 'x.txt', { accept: 'application/json' });
      expect(res.status).toBe(415);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'NOT_AN_IMAGE' } });
    });

    it('answers wrong methods and paths with 405 and 404', async () => {
      const get = await fetch(url);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      expect(await get.text()).toMatch(/GET is not allowed on \/; use POST/);
      const missing = await fetch(`${stack.web.url}/nowhere`, { method: 'POST' });
      expect(missing.status).toBe(404);
      const probe = await fetch(`${stack.web.url}/healthz`, { method: 'POST' });
      expect([probe.status, probe.headers.get('allow')]).toEqual([405, 'GET']);
    });

    it('stored nothing and queued nothing for any of them', async () => {
      expect(await countObjects()).toBe(objectsBefore);
      expect(await queueDepth(sqs, stack.queues.request)).toEqual({ visible: 0, inFlight: 0 });
    });

    it('answers a JPEG truncated after its header with 400 from the worker, which decodes it', async () => {
      const res = await upload(url, jpeg().subarray(0, 900), 'cut.jpg');
      expect(res.status).toBe(400);
      expect(res.body).toBe('The image "cut.jpg" is damaged or truncated and cannot be decoded.');
    });

    it('answers a picture without a face at once with 422, and good requests keep working', async () => {
      const blank = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
        .jpeg()
        .toBuffer();
      const res = await upload(url, blank, 'wall.jpg');
      expect(res).toMatchObject({ status: 422, body: 'No face was found in the image "wall.jpg".' });
      expect(await upload(url, image('test_003'), 'test_003.jpg')).toMatchObject({
        status: 200,
        body: `test_003:${labels.get('test_003')}`,
      });
    });
  });

  it('reports liveness and readiness', async () => {
    expect((await fetch(`${stack.web.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${stack.web.url}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, 'ready']);
  });
});

/** Rewrites the frame size in a JPEG's SOF marker: a small file that declares a huge image. */
function declareSize(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i < out.length - 9;) {
    const marker = out[i + 1]!;
    const length = out.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc2) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + length;
  }
  throw new Error('no SOF marker found');
}
