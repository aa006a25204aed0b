/**
 * Recognition people can trust, end to end on the local stack: the enrollment API (auth, names, one face per
 * photo, concurrent enrollments, workers picking up each new gallery version), every face of a picture in a
 * JSON answer, "Unknown" for strangers, and real photos (EXIF rotation, PNG, WebP, grey, a large photo with
 * a small face). Faces come from the LFW photos of test/fixtures.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../src/local/stack.js';
import { createS3Client } from '../../src/shared/aws/clients.js';
import { LFW_IMAGES } from '../helpers/fixtures.js';
import { upload } from '../helpers/http.js';
import { startTestStack, until } from '../helpers/stack.js';

const photo = (name: string) => readFileSync(`${LFW_IMAGES}${name}.jpg`);
const API_KEY = 'test-key-0123456789abcdef';
/** The test stack's fixed fleet (MIN_WORKERS = MAX_WORKERS = 2). */
const WORKERS = 2;

interface Face {
  box: [number, number, number, number];
  score: number;
  label: string;
  similarity: number;
  candidates: { name: string; similarity: number }[];
}

describe('recognition and enrollment', () => {
  let stack: LocalStack;
  let base: string;

  const enrollPhotos = async (name: string, files: { bytes: Uint8Array; file: string }[], key = API_KEY) => {
    const form = new FormData();
    for (const f of files) form.append('images', new Blob([f.bytes]), f.file);
    const res = await fetch(`${base}/people/${encodeURIComponent(name)}/faces`, {
      method: 'POST',
      body: form,
      headers: key ? { 'X-API-Key': key } : {},
    });
    return { status: res.status, headers: res.headers, body: await res.text() };
  };
  const lfw = (...names: string[]) => names.map((n) => ({ bytes: photo(n), file: `${n}.jpg` }));
  const api = async (method: string, path: string, key = API_KEY) => {
    const res = await fetch(`${base}${path}`, { method, headers: key ? { Authorization: `Bearer ${key}` } : {} });
    return { status: res.status, body: await res.text() };
  };
  const recognize = async (bytes: Uint8Array, file = 'probe.jpg') => {
    const res = await upload(`${base}/`, bytes, file, { accept: 'application/json' });
    expect(res.status, res.body).toBe(200);
    return JSON.parse(res.body) as {
      label: string;
      galleryVersion: number;
      faces: Face[];
      facesFound: number;
      workerId: string;
    };
  };
  /**
   * Waits until every worker (the stack runs two) has answered with at least `version` of the gallery: each
   * loads new versions on its own schedule, and workers never go back to an older one.
   */
  const allWorkersAt = async (version: number) => {
    const current = new Set<string>();
    await until(
      async () => {
        const answers = await Promise.all(Array.from({ length: 4 }, () => recognize(photo('Tiger_Woods_0001'))));
        for (const a of answers) if (a.galleryVersion >= version) current.add(a.workerId);
        return current.size === WORKERS;
      },
      30_000,
      `both workers to load gallery version ${version}`,
    );
  };
  const recognizeAt = async (version: number, bytes: Uint8Array) => {
    await allWorkersAt(version);
    return recognize(bytes);
  };

  /** Enrollment photos of one person kept in the in-bucket (their keys end with the uploaded file name). */
  const storedPhotos = async (person: string) => {
    const s3 = createS3Client(stack.config);
    const { Contents = [] } = await s3.send(
      new ListObjectsV2Command({ Bucket: stack.config.resources.inBucket, Prefix: 'enrollment/' }),
    );
    s3.destroy();
    return Contents.map((o) => o.Key!).filter((k) => k.split('/').pop()!.startsWith(person));
  };

  beforeAll(async () => {
    stack = await startTestStack({ API_KEY });
    base = stack.web.url;
    await stack.fleet.whenRunning(2);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  describe('the enrollment API', () => {
    it('needs the key: 401 without it, 403 with a wrong one, for changes and reads', async () => {
      const missing = await enrollPhotos('Ricardo_Lagos', lfw('Ricardo_Lagos_0001'), '');
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toMatch(/Bearer/);
      expect(missing.body).toMatch(/X-API-Key/);
      expect((await enrollPhotos('Ricardo_Lagos', lfw('Ricardo_Lagos_0001'), 'wrong-key-0123456789')).status).toBe(403);
      expect((await api('GET', '/people', '')).status).toBe(401);
      expect((await api('DELETE', '/people/Ricardo_Lagos', 'nope')).status).toBe(403);
    });

    it.each([
      ['../etc', 400, /not a valid name/],
      ['a b/c', 400, /not a valid name/],
      ['x'.repeat(65), 400, /not a valid name/],
      ['Unknown', 400, /reserved/],
    ])('refuses the name %j with %i', async (name, status, message) => {
      const res = await enrollPhotos(name, lfw('Ricardo_Lagos_0001'));
      expect(res.status).toBe(status);
      expect(res.body).toMatch(message);
    });

    it('refuses a photo without a face, and one of two faces of one size, with 422 saying why, enrolling nothing', async () => {
      const blank = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#777' } })
        .jpeg()
        .toBuffer();
      const none = await enrollPhotos('Ricardo_Lagos', [
        ...lfw('Ricardo_Lagos_0001'),
        { bytes: blank, file: 'wall.jpg' },
      ]);
      expect(none.status).toBe(422);
      expect(none.body).toMatch(/No face was found in "wall.jpg"/);
      // Two photos side by side, their faces 91 and 82 px wide: neither is clearly the person's.
      const pair = await sharp({ create: { width: 520, height: 260, channels: 3, background: '#808080' } })
        .composite([
          { input: photo('Tiger_Woods_0001'), left: 5, top: 5 },
          { input: photo('Venus_Williams_0001'), left: 265, top: 5 },
        ])
        .jpeg()
        .toBuffer();
      const two = await enrollPhotos('Ricardo_Lagos', [{ bytes: pair, file: 'two.jpg' }]);
      expect(two.status).toBe(422);
      expect(two.body).toMatch(
        /^"two.jpg" shows 2 faces and none is clearly the person's: the largest is \d+ px wide, the next \d+ px/,
      );
      expect(JSON.parse((await api('GET', '/people')).body).people).toEqual([]);
    });

    it('refuses a face too small or too blurred to recognise, saying so', async () => {
      // Tiger Woods' photo shrunk to 40 px, his face 18 px wide, in the middle of a small grey picture.
      const far = await sharp({ create: { width: 100, height: 75, channels: 3, background: '#808080' } })
        .composite([{ input: await sharp(photo('Tiger_Woods_0001')).resize(40).toBuffer(), left: 30, top: 18 }])
        .jpeg()
        .toBuffer();
      const small = await enrollPhotos('Tiger_Woods', [{ bytes: far, file: 'far.jpg' }]);
      expect(small.status, small.body).toBe(422);
      expect(small.body).toMatch(/^The face in "far.jpg" is \d+ px wide, too small to recognise/);
      const soft = await sharp(photo('Hans_Blix_0002')).blur(4).jpeg().toBuffer();
      const blurred = await enrollPhotos('Hans_Blix', [{ bytes: soft, file: 'soft.jpg' }]);
      expect(blurred.status, blurred.body).toBe(422);
      expect(blurred.body).toMatch(/^The face in "soft.jpg" is too blurred to recognise/);
      expect((await api('GET', '/people/Hans_Blix')).status).toBe(404);
      expect((await api('GET', '/people/Tiger_Woods')).status).toBe(404);
    });

    it('enrolls the dominant face of a photo with a smaller face beside it', async () => {
      // In a collection of its own, so that the default one's people are as the tests below expect.
      expect((await api('POST', '/collections/portraits')).status).toBe(201);
      const form = new FormData();
      form.append('images', new Blob([await twoFaces(140)]), 'with-venus.jpg');
      const res = await fetch(`${base}/collections/portraits/people/Tiger_Woods/faces`, {
        method: 'POST',
        body: form,
        headers: { 'X-API-Key': API_KEY },
      });
      const body = await res.text();
      expect(res.status, body).toBe(201);
      const [face] = JSON.parse(body).added as { box: number[] }[];
      // Tiger Woods, on the left, not Venus Williams on the right.
      expect(face!.box[2]).toBeLessThan(300);
      expect((await api('DELETE', '/collections/portraits')).status).toBe(200);
    });

    it('enrolls photos once each, and the workers use the new gallery without a restart', async () => {
      const first = await enrollPhotos('Ricardo_Lagos', lfw('Ricardo_Lagos_0001', 'Ricardo_Lagos_0002'));
      expect(first.status, first.body).toBe(201);
      const body = JSON.parse(first.body);
      expect(body.added).toHaveLength(2);
      expect(body.faces).toBe(2);
      const again = JSON.parse(
        (await enrollPhotos('Ricardo_Lagos', lfw('Ricardo_Lagos_0002', 'Ricardo_Lagos_0002'))).body,
      );
      expect(again.added).toEqual([]);
      expect(again.alreadyEnrolled).toHaveLength(2);
      // A photo of him that was not enrolled.
      const answer = await recognizeAt(body.galleryVersion, photo('Ricardo_Lagos_0003'));
      expect(answer.label).toBe('Ricardo_Lagos');
      expect(answer.faces[0]!.candidates[0]).toMatchObject({ name: 'Ricardo_Lagos' });
    });

    it('loses nothing when many enroll at once', async () => {
      const people = ['Venus_Williams', 'Tiger_Woods', 'Jennifer_Lopez', 'Hans_Blix'];
      const photos: Record<string, string[]> = {
        Venus_Williams: ['Venus_Williams_0001', 'Venus_Williams_0004'],
        Tiger_Woods: ['Tiger_Woods_0001', 'Tiger_Woods_0003'],
        Jennifer_Lopez: ['Jennifer_Lopez_0004', 'Jennifer_Lopez_0005'],
        Hans_Blix: ['Hans_Blix_0002', 'Hans_Blix_0006'],
      };
      // One request per photo, all at once.
      const results = await Promise.all(people.flatMap((name) => photos[name]!.map((p) => enrollPhotos(name, lfw(p)))));
      for (const r of results) expect(r.status, r.body).toBe(201);
      const listed = JSON.parse((await api('GET', '/people')).body);
      expect(listed.people).toEqual(expect.arrayContaining(people.map((name) => ({ name, faces: 2 }))));
      const versions = results.map((r) => JSON.parse(r.body).galleryVersion as number);
      expect(new Set(versions).size).toBe(versions.length);
      expect(listed.galleryVersion).toBe(Math.max(...versions));
    });

    it('removes one face, then the whole person and their photos', async () => {
      // Kept: the two photos of his successful enrollment; refused and repeated uploads were deleted.
      expect(await storedPhotos('Ricardo_Lagos')).toHaveLength(2);
      const person = JSON.parse((await api('GET', '/people/Ricardo_Lagos')).body);
      expect(person.faces).toHaveLength(2);
      const removed = await api('DELETE', `/people/Ricardo_Lagos/faces/${person.faces[0].id}`);
      expect(removed.status, removed.body).toBe(200);
      expect(JSON.parse(removed.body).faces).toBe(1);
      expect(await storedPhotos('Ricardo_Lagos')).toHaveLength(1);
      expect((await api('DELETE', '/people/Ricardo_Lagos/faces/0000000000000000')).status).toBe(404);

      const gone = await api('DELETE', '/people/Ricardo_Lagos');
      expect(gone.status).toBe(200);
      const { galleryVersion } = JSON.parse(gone.body);
      expect((await api('DELETE', '/people/Ricardo_Lagos')).status).toBe(404);
      expect((await api('GET', '/people/Ricardo_Lagos')).status).toBe(404);
      expect(await storedPhotos('Ricardo_Lagos')).toEqual([]);
      // Nobody is named after him any more: his photo is a stranger's now.
      const answer = await recognizeAt(galleryVersion, photo('Ricardo_Lagos_0003'));
      expect(answer.label).toBe('Unknown');
      expect(answer.faces[0]!.candidates.map((c) => c.name)).not.toContain('Ricardo_Lagos');
    });
  });

  describe('collections', () => {
    const enrollIn = async (collection: string, name: string, files: { bytes: Uint8Array; file: string }[]) => {
      const form = new FormData();
      for (const f of files) form.append('images', new Blob([f.bytes]), f.file);
      const res = await fetch(`${base}/collections/${collection}/people/${encodeURIComponent(name)}/faces`, {
        method: 'POST',
        body: form,
        headers: { 'X-API-Key': API_KEY },
      });
      return { status: res.status, body: await res.text() };
    };
    const recognizeIn = async (collection: string, bytes: Uint8Array) => {
      const form = new FormData();
      form.append('inputFile', new Blob([bytes]), 'probe.jpg');
      const res = await fetch(`${base}/?collection=${collection}`, {
        method: 'POST',
        body: form,
        headers: { Accept: 'application/json' },
      });
      const body = await res.text();
      const state = res.headers.get('facefleet-state') ?? '';
      const message = () => (JSON.parse(body) as { error?: { message: string } }).error?.message ?? body;
      return {
        status: res.status,
        state,
        message,
        json: () => JSON.parse(body) as { label: string; collection: string; galleryVersion: number },
      };
    };

    it('match against the collection named, each with its own people and rules', async () => {
      expect((await api('POST', '/collections/staff')).status).toBe(201);
      expect((await api('POST', '/collections/staff')).status).toBe(409);
      expect((await api('POST', '/collections/a%2Fb')).status).toBe(400);
      // Nobody enrolled in it yet.
      const empty = await recognizeIn('staff', photo('Tiger_Woods_0001'));
      expect([empty.status, empty.message()]).toEqual([
        503,
        expect.stringMatching(/Nobody is enrolled in the collection "staff"/),
      ]);
      // A photo enrolled in the default collection may be enrolled in another, under a name of its own there.
      expect((await enrollIn('staff', 'Serena_Example', lfw('Tiger_Woods_0003'))).status).toBe(201);
      const added = await enrollIn('staff', 'Venus_Williams', lfw('Venus_Williams_0008', 'Venus_Williams_0009'));
      expect(added.status, added.body).toBe(201);
      expect(JSON.parse(added.body)).toMatchObject({ collection: 'staff', faces: 2 });
      const listed = JSON.parse((await api('GET', '/collections/staff/people?limit=1')).body);
      expect(listed).toMatchObject({
        collection: 'staff',
        totalPeople: 2,
        totalFaces: 3,
        people: [{ name: 'Serena_Example', faces: 1 }],
        next: 'Serena_Example',
      });
      const second = JSON.parse((await api('GET', '/collections/staff/people?limit=1&after=Serena_Example')).body);
      expect(second.people).toEqual([{ name: 'Venus_Williams', faces: 2 }]);
      expect(second.next).toBeUndefined();
      // Each worker loads staff at its first request, then follows its versions.
      const version = JSON.parse((await api('GET', '/collections/staff')).body).version as number;
      let answer = await recognizeIn('staff', photo('Tiger_Woods_0001'));
      await until(
        async () => (answer = await recognizeIn('staff', photo('Tiger_Woods_0001'))).json().galleryVersion >= version,
        30_000,
        'staff at its latest version',
      );
      expect(answer.json()).toMatchObject({ label: 'Serena_Example', collection: 'staff' });
      expect(answer.state).toMatch(/collection="staff"/);
      // The same photo in the default collection is still Tiger Woods.
      expect((await recognize(photo('Tiger_Woods_0001'))).label).toBe('Tiger_Woods');
      const missing = await recognizeIn('nowhere', photo('Tiger_Woods_0001'));
      expect([missing.status, missing.message()]).toEqual([
        404,
        expect.stringMatching(/no collection named "nowhere"/),
      ]);
    });

    it('are listed and described, and deleted with their photos', async () => {
      const all = JSON.parse((await api('GET', '/collections')).body) as { collections: { name: string }[] };
      expect(all.collections.map((c) => c.name)).toEqual(expect.arrayContaining(['default', 'staff']));
      expect(JSON.parse((await api('GET', '/collections/staff')).body)).toMatchObject({ people: 2, faces: 3 });
      const gone = await api('DELETE', '/collections/staff');
      expect(gone.status).toBe(200);
      expect(JSON.parse(gone.body).deleted).toMatchObject({ name: 'staff', faces: 3 });
      expect(await storedPhotos('Venus_Williams_0008')).toEqual([]);
      // The default collection's photos of her stay.
      expect(await storedPhotos('Venus_Williams_0001')).toHaveLength(1);
      expect((await api('GET', '/collections/staff')).status).toBe(404);
      expect((await recognizeIn('staff', photo('Tiger_Woods_0001'))).status).toBe(404);
    });
  });

  describe('answers', () => {
    beforeAll(async () => {
      await allWorkersAt(JSON.parse((await api('GET', '/people')).body).galleryVersion);
    });

    it('name a stranger "Unknown", still listing the nearest candidates', async () => {
      const answer = await recognize(photo('Angelina_Jolie_0004'));
      expect(answer.label).toBe('Unknown');
      const [face] = answer.faces;
      expect(face!.label).toBe('Unknown');
      expect(face!.candidates.length).toBeGreaterThan(0);
      expect(face!.candidates.length).toBeLessThanOrEqual(3);
      expect(face!.similarity).toBe(face!.candidates[0]!.similarity);
      expect(face!.similarity).toBeLessThan(0.45);
    });

    it('list every face of a picture in JSON, and name the subject in plain text', async () => {
      const picture = await twoFaces();
      const answer = await recognize(picture);
      expect(answer.facesFound).toBe(2);
      const [subject, other] = answer.faces;
      // The larger face, on the left, comes first.
      expect(subject).toMatchObject({ label: 'Tiger_Woods' });
      expect(other).toMatchObject({ label: 'Venus_Williams' });
      expect(subject!.box[2]).toBeLessThan(300);
      expect(other!.box[0]).toBeGreaterThan(300);
      for (const face of answer.faces) {
        expect(face.score).toBeGreaterThan(0.7);
        expect(face.candidates[0]!.name).toBe(face.label);
      }
      const plain = await upload(`${base}/`, picture, 'pair.jpg');
      expect(plain.body).toBe('pair:Tiger_Woods');
    });

    it('honour EXIF orientation, and report boxes on the upright picture', async () => {
      // Stored on its side, with the EXIF tag that tells viewers to turn it upright.
      const upright = await sharp(photo('Venus_Williams_0006'))
        .extend({ bottom: 60, background: '#808080' })
        .jpeg()
        .toBuffer();
      const sideways = await sharp(upright).rotate(270).withMetadata({ orientation: 6 }).jpeg().toBuffer();
      const meta = await sharp(sideways).metadata();
      expect([meta.width, meta.height, meta.orientation]).toEqual([310, 250, 6]);
      const answer = await recognize(sideways);
      expect(answer.label).toBe('Venus_Williams');
      const [x1, y1, x2, y2] = answer.faces[0]!.box;
      // Upright, the face is a portrait-shaped box in the top part of a 250x310 picture.
      expect(y2 - y1).toBeGreaterThan(x2 - x1);
      expect(y2).toBeLessThan(250);
    });

    it.each([
      ['PNG', (s: Sharp) => s.png()],
      ['WebP', (s: Sharp) => s.webp()],
      ['grey JPEG', (s: Sharp) => s.greyscale().jpeg()],
    ])('accept %s', async (_format, encode) => {
      const bytes = await encode(sharp(photo('Tiger_Woods_0007'))).toBuffer();
      expect((await recognize(bytes)).label).toBe('Tiger_Woods');
    });

    it('find a small face in a large photo', async () => {
      const face = await sharp(photo('Jennifer_Lopez_0003')).resize(220).toBuffer();
      const big = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#5a6a5a' } })
        .composite([{ input: face, left: 2900, top: 400 }])
        .jpeg({ quality: 90 })
        .toBuffer();
      const answer = await recognize(big);
      expect(answer.label).toBe('Jennifer_Lopez');
      const [x1, y1] = answer.faces[0]!.box;
      expect(x1).toBeGreaterThan(2900);
      expect(y1).toBeGreaterThan(400);
    });
  });
});

describe('a worker warms up before it is ready', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startTestStack({ MIN_WORKERS: '0', MAX_WORKERS: '1' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers GET /readyz with 503 until its models are warm and the gallery is read, then 200', async () => {
    const port = await freePort();
    const worker = spawn(process.execPath, ['--import', 'tsx', 'src/app-tier/main.ts'], {
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: stack.emulator.endpoint,
        WORKER_HEALTH_PORT: String(port),
        WORKER_ID: 'probe-test',
      },
      stdio: 'ignore',
    });
    const exited = once(worker, 'exit');
    try {
      const seen: number[] = [];
      let body = '';
      await until(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          if (!res) return false;
          seen.push(res.status);
          body = await res.text();
          if (res.status === 503) expect(body).toMatch(/^Not ready: (loading and warming up|reading the gallery)/);
          return res.status === 200;
        },
        30_000,
        'the worker to be ready',
      );
      expect(JSON.parse(body)).toMatchObject({ ready: true, workerId: 'probe-test', galleryVersion: null });
      expect(JSON.parse(body).warmUpMs).toBeGreaterThan(0);
      expect(seen.slice(0, -1).every((s) => s === 503)).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Tiger Woods, large and left of centre, and Venus Williams on the right, her photo `venusWidth` px wide. */
async function twoFaces(venusWidth = 170): Promise<Buffer> {
  return sharp({ create: { width: 700, height: 300, channels: 3, background: '#808080' } })
    .composite([
      { input: photo('Tiger_Woods_0017'), left: 40, top: 25 },
      { input: await sharp(photo('Venus_Williams_0008')).resize(venusWidth).toBuffer(), left: 400, top: 25 },
    ])
    .jpeg()
    .toBuffer();
}
