/**
 * What clients send is bounded (issue "Hardening the front door", item 1): a request whose headers or body do
 * not arrive in time is answered 408, uploads past the cap and connections past the cap are answered 503 with
 * Retry-After, nothing of a refused upload reaches S3, and good requests keep being answered meanwhile. The
 * real stack with short deadlines, so that each case takes seconds.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../src/shared/aws/clients.js';
import type { LocalStack } from '../../src/local/stack.js';
import { COURSE_IMAGES, COURSE_LABELS } from '../helpers/fixtures.js';
import { upload } from '../helpers/http.js';
import { isAlive } from '../../src/shared/fleet-registry.js';
import { enroll, startTestStack, until } from '../helpers/stack.js';

const UPLOAD_TIMEOUT_SECONDS = 2;
const MAX_CONCURRENT_UPLOADS = 4;
const MAX_CONNECTIONS = 30;
const MAX_UPLOAD_BYTES = 2 * 2 ** 20;
const MAX_UPLOAD_MEMORY_BYTES = 3 * 2 ** 20;
const API_KEY = 'slow-clients-test-key-0123';

/** Opens a raw connection, writes `text` and keeps the connection open; `response` resolves when it closes. */
function rawClient(
  port: number,
  text: string,
): { socket: Socket; response: Promise<string>; opened: Promise<void>; firstBytes: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  const opened = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.once('connect', () => socket.write(text));
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('utf8')));
  socket.on('error', () => undefined);
  const firstBytes = new Promise<void>((resolve) => {
    socket.once('data', () => resolve());
    socket.once('close', () => resolve());
  });
  // The final response: an interim "100 Continue" before it is not the answer.
  const response = new Promise<string>((resolve) =>
    socket.once('close', () => resolve(received.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''))),
  );
  return { socket, response, opened, firstBytes };
}

/**
 * A multipart upload whose headers promise `declaredBytes` and whose body stops after a few bytes. It asks for
 * `100 Continue`, which Node writes as it hands the request to Express: once a client has read it, the upload
 * holds its slot.
 */
function stalledUpload(declaredBytes = 100_000): string {
  return (
    'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\nExpect: 100-continue\r\n' +
    `Content-Length: ${declaredBytes}\r\n\r\n` +
    '--b\r\nContent-Disposition: form-data; name="inputFile"; filename="slow.jpg"\r\n\r\n'
  );
}

describe('slow and greedy clients', () => {
  let stack: LocalStack;
  let url: string;
  let s3: ReturnType<typeof createS3Client>;
  // Read in beforeAll, not when the file is collected: without the course data the suite is skipped whole.
  let good: Buffer;
  const inBucketCount = async () =>
    (await s3.send(new ListObjectsV2Command({ Bucket: stack.config.resources.inBucket }))).KeyCount ?? 0;

  beforeAll(async () => {
    good = readFileSync(`${COURSE_IMAGES}test_000.jpg`);
    stack = await startTestStack({
      MIN_WORKERS: '1',
      MAX_WORKERS: '1',
      HEADERS_TIMEOUT_SECONDS: '1',
      UPLOAD_TIMEOUT_SECONDS: String(UPLOAD_TIMEOUT_SECONDS),
      MAX_CONCURRENT_UPLOADS: String(MAX_CONCURRENT_UPLOADS),
      MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      MAX_UPLOAD_MEMORY_BYTES: String(MAX_UPLOAD_MEMORY_BYTES),
      API_KEY,
      // Longer than the 3.5 s freeze of the test that waits for a frozen worker, shorter than test timeouts.
      WORKER_LIVENESS_SECONDS: '6',
    });
    url = `${stack.web.url}/`;
    s3 = createS3Client(stack.config);
    await stack.fleet.whenRunning(1);
    await enroll(stack, ['--images', COURSE_IMAGES, '--labels', COURSE_LABELS]);
    await until(async () => (await upload(url, good, 'test_000.jpg')).body === 'test_000:Paul', 30_000, 'the gallery');
  });

  afterAll(async () => {
    s3?.destroy();
    await stack?.stop();
  });

  it('answers a body that stops arriving 408 at the upload deadline, stores nothing, and serves others meanwhile', async () => {
    const before = await inBucketCount();
    const started = Date.now();
    const stalled = rawClient(stack.web.port, stalledUpload());
    const meanwhile = await upload(url, good, 'test_000.jpg');
    expect(meanwhile).toMatchObject({ status: 200, body: 'test_000:Paul' });
    const response = await stalled.response;
    expect(response).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(response).toContain(`The request did not arrive within ${UPLOAD_TIMEOUT_SECONDS} seconds`);
    expect(Date.now() - started).toBeLessThan((UPLOAD_TIMEOUT_SECONDS + 4) * 1000);
    // The good request's image is stored; the stalled one's is not.
    expect(await inBucketCount()).toBe(before + 1);
  });

  it('answers headers that never finish 408', async () => {
    const stalled = rawClient(stack.web.port, 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: multip');
    const response = await stalled.response;
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(response).toContain('did not arrive within');
    // The deadline that passed is the headers' (1 s), not the whole upload's.
    expect(response).toContain("The request's headers did not arrive within 1 seconds");
    expect(response).toContain('X-Content-Type-Options: nosniff');
  });

  it('answers headers larger than Node reads 431, not 400', async () => {
    const client = rawClient(
      stack.web.port,
      `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
    );
    const response = await client.response;
    expect(response).toMatch(/^HTTP\/1\.1 431 /);
    expect(response).toContain("The request's headers are larger than the 16 KiB the server reads");
  });

  it('shows where the workers’ and web processes’ metrics are only to a request that carries the key', async () => {
    type Status = { fleet: { metricsUrl?: string }[]; web: { processes: { metricsUrl?: string }[] } };
    const status = async (headers: Record<string, string> = {}) =>
      (await (await fetch(`${stack.web.url}/status`, { headers })).json()) as Status;
    const anyone = await status();
    expect(anyone.fleet.length).toBeGreaterThan(0);
    expect(JSON.stringify(anyone)).not.toMatch(/metricsUrl|127\.0\.0\.1:\d+/);
    const operator = await status({ 'X-API-Key': API_KEY });
    expect(operator.fleet.every((w) => /^http:\/\/127\.0\.0\.1:\d+\/metrics$/.test(w.metricsUrl ?? ''))).toBe(true);
  });

  it('says every answer is what its Content-Type says (nosniff), and how to authenticate on a 401', async () => {
    const body = new FormData();
    body.append('inputFile', new Blob([good]), 'test_000.jpg');
    const label = await fetch(url, { method: 'POST', body });
    expect(await label.text()).toBe('test_000:Paul');
    expect(label.headers.get('x-content-type-options')).toBe('nosniff');
    const refused = await fetch(`${stack.web.url}/people`, { method: 'GET' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="facefleet"');
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses uploads past the cap with 503 and Retry-After, and takes them again once the slots free', async () => {
    const stalled = Array.from({ length: MAX_CONCURRENT_UPLOADS }, () => rawClient(stack.web.port, stalledUpload()));
    // Each holds its slot once the web tier has answered 100 Continue.
    await Promise.all(stalled.map((s) => s.firstBytes));
    const form = new FormData();
    form.append('inputFile', new Blob([good]), 'test_000.jpg');
    const refused = await fetch(url, { method: 'POST', body: form });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.text()).toBe(
      `${MAX_CONCURRENT_UPLOADS} uploads are already arriving, the most the server takes at once; try again in a second.`,
    );
    for (const response of await Promise.all(stalled.map((s) => s.response))) expect(response).toMatch(/ 408 /);
    expect(await upload(url, good, 'test_000.jpg')).toMatchObject({ status: 200, body: 'test_000:Paul' });
  });

  it('refuses an upload that would take buffered uploads past MAX_UPLOAD_MEMORY_BYTES, and takes small ones', async () => {
    const big = rawClient(stack.web.port, stalledUpload(MAX_UPLOAD_BYTES));
    await big.firstBytes;
    const second = rawClient(stack.web.port, stalledUpload(MAX_UPLOAD_BYTES));
    const refused = await second.response;
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(refused).toContain('The uploads already arriving hold 3 MiB, the most the server buffers at once');
    // 2 MiB held, 1 MiB left: a course image still fits.
    expect(await upload(url, good, 'test_000.jpg')).toMatchObject({ status: 200, body: 'test_000:Paul' });
    expect(await big.response).toMatch(/ 408 /);
  });

  it('refuses connections past the cap with 503 and Retry-After', async () => {
    const idle = Array.from({ length: MAX_CONNECTIONS }, () => rawClient(stack.web.port, ''));
    await Promise.all(idle.map((c) => c.opened));
    const extra = rawClient(stack.web.port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const response = await extra.response;
    expect(response).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(response).toContain('Retry-After: 1\r\n');
    expect(response).toContain(`The server has ${MAX_CONNECTIONS} connections open, its limit`);
    for (const c of idle) c.socket.destroy();
    await Promise.all(idle.map((c) => c.response));
    expect(await upload(url, good, 'test_000.jpg')).toMatchObject({ status: 200, body: 'test_000:Paul' });
  });

  it('does not cut a request that waits longer than the upload deadline for its result', async () => {
    const [worker] = await stack.fleet.list();
    expect(worker).toBeDefined();
    // The worker is frozen for longer than the upload deadline: the request has arrived, and waits.
    stack.fleet.kill(worker!.id, 'SIGSTOP');
    const started = Date.now();
    const pending = upload(url, good, 'test_000.jpg');
    try {
      await new Promise((r) => setTimeout(r, (UPLOAD_TIMEOUT_SECONDS + 1.5) * 1000));
    } finally {
      stack.fleet.kill(worker!.id, 'SIGCONT');
    }
    expect(await pending).toMatchObject({ status: 200, body: 'test_000:Paul' });
    expect(Date.now() - started).toBeGreaterThan(UPLOAD_TIMEOUT_SECONDS * 1000);
  });

  it.each([['😀test'], ['漢'.repeat(150)], ['a "quoted" name']])(
    'answers a file named %s with its whole stem, and stores the label under it',
    async (stem) => {
      const answer = await upload(url, good, `${stem}.jpg`);
      expect(answer).toMatchObject({ status: 200, body: `${stem}:Paul` });
      const label = await s3.send(new GetObjectCommand({ Bucket: stack.config.resources.outBucket, Key: stem }));
      expect(await label.Body!.transformToString()).toBe('Paul');
    },
  );

  it('deletes the photos of an enrollment whose client leaves before it is answered, and enrolls nothing', async () => {
    const enrollmentPhotos = async () =>
      (await s3.send(new ListObjectsV2Command({ Bucket: stack.config.resources.inBucket, Prefix: 'enrollment/' })))
        .KeyCount ?? 0;
    const [worker] = await stack.fleet.list();
    // The worker is frozen, so the photos are stored and queued but not yet answered when the client leaves.
    stack.fleet.kill(worker!.id, 'SIGSTOP');
    try {
      const form = new FormData();
      form.append('images', new Blob([readFileSync(`${COURSE_IMAGES}test_001.jpg`)]), 'one.jpg');
      form.append('images', new Blob([readFileSync(`${COURSE_IMAGES}test_002.jpg`)]), 'two.jpg');
      const leaving = new AbortController();
      const request = fetch(`${stack.web.url}/people/Gone/faces`, {
        method: 'POST',
        body: form,
        headers: { 'X-API-Key': API_KEY },
        signal: leaving.signal,
      }).catch((err: unknown) => err);
      await until(async () => (await enrollmentPhotos()) === 2, 10_000, 'the two photos to be stored');
      leaving.abort();
      expect(await request).toBeInstanceOf(Error);
      await until(async () => (await enrollmentPhotos()) === 0, 10_000, 'the photos to be deleted');
    } finally {
      stack.fleet.kill(worker!.id, 'SIGCONT');
    }
    const people = await fetch(`${stack.web.url}/people`, { headers: { 'X-API-Key': API_KEY } });
    expect(((await people.json()) as { people: { name: string }[] }).people.map((p) => p.name)).not.toContain('Gone');
  });

  it('refuses a look-alike of an enrolled name (400) and a photo enrolled for someone else (409), keeping no photo', async () => {
    const enroll = async (name: string, file: string) => {
      const form = new FormData();
      form.append('images', new Blob([readFileSync(`${COURSE_IMAGES}${file}`)]), file);
      const res = await fetch(`${stack.web.url}/people/${encodeURIComponent(name)}/faces`, {
        method: 'POST',
        body: form,
        headers: { 'X-API-Key': API_KEY },
      });
      return { status: res.status, body: await res.text() };
    };
    const photos = async () =>
      (await s3.send(new ListObjectsV2Command({ Bucket: stack.config.resources.inBucket, Prefix: 'enrollment/' })))
        .KeyCount ?? 0;
    const before = await photos();
    // "Pаul" with a Cyrillic а, while the course gallery has Paul.
    expect(await enroll('P\u0430ul', 'test_003.jpg')).toEqual({
      status: 400,
      body: '"P\u0430ul" reads as "Paul", who is already enrolled: add faces under "Paul", or choose a clearly different name.',
    });
    // test_000.jpg is Paul's enrolled photo.
    const taken = await enroll('Someone Else', 'test_000.jpg');
    expect(taken.status).toBe(409);
    expect(taken.body).toMatch(
      /^The photo "test_000.jpg" is already enrolled for "Paul" \(face [0-9a-f]{16}\); remove it there first\.$/,
    );
    expect(await photos()).toBe(before);
  });

  it('refuses a copy of an enrolled photo under another name (409), though its bytes differ', async () => {
    const send = async (name: string, file: string, bytes: Uint8Array) => {
      const form = new FormData();
      form.append('images', new Blob([bytes]), file);
      const res = await fetch(`${stack.web.url}/people/${encodeURIComponent(name)}/faces`, {
        method: 'POST',
        body: form,
        headers: { 'X-API-Key': API_KEY },
      });
      return { status: res.status, body: await res.text() };
    };
    const original = readFileSync(`${COURSE_IMAGES}test_000.jpg`);
    // The hardening probe's copy: 16 zero bytes appended (a new face id), and a re-encoded copy.
    for (const [file, bytes] of [
      ['padded.jpg', Buffer.concat([original, Buffer.alloc(16)])],
      ['reencoded.jpg', await sharp(original).jpeg({ quality: 60 }).toBuffer()],
    ] as const) {
      const copy = await send('Someone Else', file, bytes);
      expect(copy.status, copy.body).toBe(409);
      expect(copy.body).toMatch(
        new RegExp(
          `^The face in "${file}" is a copy of a photo already enrolled for "Paul" \\(similarity (1|0\\.9\\d+)\\); `,
        ),
      );
    }
    // Under its own name the copy is no one else's.
    expect((await send('Paul', 'padded.jpg', Buffer.concat([original, Buffer.alloc(16)]))).status).toBeLessThan(300);
  });

  it('answers a JPEG whose header is sound and whose body is garbage 400 INVALID_IMAGE, not 422 no face', async () => {
    const damaged = Buffer.from(good);
    const scan = damaged.indexOf(Buffer.from([0xff, 0xda]));
    for (let i = scan + 40; i < damaged.length - 2; i++) damaged[i] = (i * 7919) & 0xff;
    expect(await upload(url, damaged, 'damaged.jpg')).toMatchObject({
      status: 400,
      body: 'The image "damaged.jpg" is damaged or truncated and cannot be decoded.',
    });
  });

  describe('client mistakes are 400s with a sentence, and store nothing', () => {
    /** Sends a raw multipart request whose parts are given as bytes; resolves with status line and body. */
    async function rawMultipart(parts: Buffer): Promise<{ status: string; body: string }> {
      const head =
        'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\n' +
        `Connection: close\r\nContent-Length: ${parts.length}\r\n\r\n`;
      const client = rawClient(stack.web.port, '');
      await client.opened;
      client.socket.write(Buffer.concat([Buffer.from(head), parts]));
      const response = await client.response;
      return { status: response.split('\r\n')[0]!, body: response.split('\r\n\r\n').slice(1).join('\r\n\r\n') };
    }
    const part = (fileName: string) =>
      Buffer.concat([
        Buffer.from(`--b\r\nContent-Disposition: form-data; name="inputFile"; filename="${fileName}"\r\n\r\n`),
        good,
        Buffer.from('\r\n'),
      ]);

    it('a path that is not valid percent-encoding', async () => {
      const res = await fetch(`${stack.web.url}/people/%ZZ`);
      expect(res.status).toBe(400);
      expect(await res.text()).toBe(
        'The path "/people/%ZZ" is not valid percent-encoding (a "%" must be followed by two hex digits).',
      );
    });

    it('a NUL byte in a file name, and two files in one request', async () => {
      const before = await inBucketCount();
      const nul = await rawMultipart(Buffer.concat([part('a\u0000b.jpg'), Buffer.from('--b--\r\n')]));
      expect(nul.status).toBe('HTTP/1.1 400 Bad Request');
      expect(nul.body).toBe('The multipart/form-data body could not be read: it is malformed or was cut off.');
      const two = await rawMultipart(Buffer.concat([part('a.jpg'), part('b.jpg'), Buffer.from('--b--\r\n')]));
      expect(two.status).toBe('HTTP/1.1 400 Bad Request');
      expect(two.body).toBe(
        'This request carries more than 1 file(s); send exactly one image in a field named "inputFile".',
      );
      expect(await inBucketCount()).toBe(before);
    });
  });

  it('replaces a worker that stops giving its liveness signal, and answers again', async () => {
    const [frozen] = await stack.fleet.list();
    const frozenPid = stack.fleet.pid(frozen!.id)!;
    stack.fleet.kill(frozen!.id, 'SIGSTOP');
    await until(() => !isAlive(frozenPid), 30_000, 'the autoscaler to kill the frozen worker');
    await stack.fleet.whenRunning(1);
    const [replacement] = await stack.fleet.list();
    expect(stack.fleet.pid(replacement!.id)).not.toBe(frozenPid);
    expect(await upload(url, good, 'test_000.jpg')).toMatchObject({ status: 200, body: 'test_000:Paul' });
  });
});
