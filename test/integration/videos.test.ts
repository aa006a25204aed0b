/**
 * Classroom videos through `npm start`'s stack: clips made here by ffmpeg from LFW photos (several people one
 * after another, one of them in two segments, a face nobody enrolled), sent to POST /videos and, as S3 would
 * on AWS, announced by an S3 event on the video queue; the roster, the records from the students table
 * (dynalite) and the CSV in the out-bucket; every kind of bad input refused with its sentence, with nothing
 * stored or queued for what the web tier refuses.
 */
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  rmSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../src/local/stack.js';
import { createS3Client, createSqsClient } from '../../src/shared/aws/clients.js';
import { ERROR_CATALOGUE } from '../../src/shared/wire/errors.js';
import { StudentTable } from '../../src/shared/video/student-table.js';
import { createDynamoClient } from '../../src/shared/aws/clients.js';
import { findTool } from '../../src/shared/video/tools.js';
import { newScratchDir } from '../helpers/data-dirs.js';
import { COURSE_IMAGES, LFW_IMAGES } from '../helpers/fixtures.js';
import { runScript } from '../helpers/scripts.js';
import { enroll, enrollCourseSubset, queueDepth, startTestStack, until } from '../helpers/stack.js';
import { CODECS, lavfiClip, makeClip } from '../../scripts/lib/clips.js';

/** A person's `i`th photo (from 0), in the order of their file names. */
const photo = (name: string, i: number) =>
  `${LFW_IMAGES}${
    readdirSync(LFW_IMAGES)
      .filter((f) => f.startsWith(`${name}_0`))
      .sort()[i]!
  }`;
const ENROLLED = ['Jennifer_Lopez', 'Hans_Blix', 'Ricardo_Lagos'];
/** The API key of the test stack: videos need it (their answers hold students' records). */
const KEY = 'video-test-key-0123456789';
/** Nobody enrolled her: she is an unknown face. */
const STRANGER = 'Angelina_Jolie';

let ffmpeg: string | undefined;
try {
  ffmpeg = findTool('ffmpeg', undefined, { packaged: false }).path;
} catch (err) {
  console.warn(`Skipping the classroom-video tests: ${(err as Error).message}`);
}

/** What a JSON answer of POST /videos holds. */
interface VideoAnswer {
  name: string;
  container: string;
  durationSeconds?: number;
  frameSeconds: number;
  framesSeen: number;
  students: { name: string; firstSeenSeconds: number; bestSimilarity: number; frames: number; record?: object }[];
  unknown: { faces: number; mostInOneFrame: number; people: number; firstSeenSeconds?: number };
  recordFields: string[];
  csvKey: string;
}

describe.skipIf(!ffmpeg)('classroom videos', () => {
  let stack: LocalStack;
  let url: string;
  let s3: S3Client;
  let sqs: SQSClient;
  const dir = newScratchDir('facefleet-videos-');
  const clip = (name: string) => join(dir, name);

  const post = async (path: string, name: string, accept?: string, key: string | undefined = KEY) => {
    const form = new FormData();
    form.append('inputFile', new Blob([readFileSync(path)]), name);
    const res = await fetch(`${url}/videos`, {
      method: 'POST',
      body: form,
      headers: { ...(accept ? { Accept: accept } : {}), ...(key ? { 'X-API-Key': key } : {}) },
    });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      code: res.headers.get('facefleet-error-code'),
      body: await res.text(),
      headers: res.headers,
    };
  };
  /** An S3 event message as S3 sends it to the video queue on AWS (its key URL-encoded, a space as +). */
  const s3Event = (eventName: string, key: string) => {
    const inBucket = stack.config.resources.inBucket;
    return JSON.stringify({
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: new Date().toISOString(),
          eventName,
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: inBucket, arn: `arn:aws:s3:::${inBucket}` },
            object: { key, size: 1 },
          },
        },
      ],
    });
  };
  /** The text of an object once a worker has written it. */
  const stored = async (Bucket: string, Key: string) => {
    let text = '';
    await until(
      async () => {
        try {
          text = await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();
          return true;
        } catch {
          return false;
        }
      },
      60_000,
      `${Key} in ${Bucket}`,
    );
    return text;
  };
  const uploadsStored = async () =>
    (await s3.send(new ListObjectsV2Command({ Bucket: stack.config.resources.inBucket, Prefix: 'uploads/' })))
      .KeyCount ?? 0;

  beforeAll(async () => {
    stack = await startTestStack({ VIDEO_MAX_BYTES: String(2 * 1024 * 1024), API_KEY: KEY });
    url = `http://127.0.0.1:${stack.web.port}`;
    s3 = createS3Client(stack.config);
    sqs = createSqsClient(stack.config);
    // Three people enrolled from three photos each; the videos show them in other photos.
    const people = join(dir, 'people');
    for (const name of ENROLLED) {
      mkdirSync(join(people, name.replace('_', ' ')), { recursive: true });
      for (const n of [0, 1, 2]) copyFileSync(photo(name, n), join(people, name.replace('_', ' '), `${n}.jpg`));
    }
    await enroll(stack, ['--images', people]);
    // The classroom: Jennifer Lopez, Hans Blix, a stranger, Jennifer Lopez again, Ricardo Lagos; 2 s each. The
    // stranger's photo holds another person in its background, whose face is counted too (a third, half out of
    // the picture, the detector is unsure of): 2 unknown faces a frame, 2 strangers.
    await makeClip(
      ffmpeg!,
      [
        { image: photo('Jennifer_Lopez', 4), seconds: 2 },
        { image: photo('Hans_Blix', 4), seconds: 2 },
        { image: photo(STRANGER, 1), seconds: 2 },
        { image: photo('Jennifer_Lopez', 6), seconds: 2 },
        { image: photo('Ricardo_Lagos', 4), seconds: 2 },
      ],
      clip('class.mp4'),
    );
  }, 180_000);

  afterAll(async () => {
    s3?.destroy();
    sqs?.destroy();
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const studentsCommand = (file: string) =>
    runScript('scripts/students.ts', ['--file', file], {
      ...process.env,
      AWS_ENDPOINT_URL: stack.emulator.endpoint,
      DYNAMODB_ENDPOINT_URL: stack.emulator.dynamodbEndpoint,
    });
  const lookup = (names: string[]) => {
    const dynamodb = createDynamoClient(stack.config);
    return new StudentTable(dynamodb, stack.config.resources.studentsTable)
      .lookup(names)
      .finally(() => dynamodb.destroy());
  };
  const sentence = (code: keyof typeof ERROR_CATALOGUE, params: object) =>
    (ERROR_CATALOGUE[code].message as (p: object) => string)(params);

  it('refuses a records file with broken rows whole, naming each line and field', async () => {
    const file = join(dir, 'broken.csv');
    writeFileSync(file, 'name,id,major\nJennifer Lopez,S-1001,Physics\n,S-1002,Law\nHans Blix,S-1003,"Econ\u0007"\n');
    const run = await studentsCommand(file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('The student records were not loaded, none of them');
    expect(run.stderr).toContain('line 3, field "name"');
    expect(run.stderr).toContain('line 4, field "major": a control character');
    expect((await lookup(['Jennifer Lopez'])).records.size).toBe(0);
  });

  it('loads the records, and names the students nobody enrolled', async () => {
    const file = join(dir, 'records.csv');
    writeFileSync(
      file,
      'name,id,major,year\nJennifer Lopez,S-1001,"Physics, Applied",3\nhans blix,S-1002,"Law ""International""",4\nZhu Rongji,S-1003,Economics,2\n',
    );
    const run = await studentsCommand(file);
    expect(run.stderr).toMatch(/warning: 1 of these students is not enrolled.*: Zhu Rongji$/m);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^Loaded 3 student records into t-\w+-students at http:\/\/127\.0\.0\.1:\d+ \(fields: id, major, year\)\.$/m,
    );
    // "hans blix" is Hans Blix: names are matched as they read.
    const found = await lookup(['Hans Blix', 'Ricardo Lagos']);
    expect(Object.fromEntries(found.records)).toEqual({
      'Hans Blix': { id: 'S-1002', major: 'Law "International"', year: '4' },
    });
  });

  it('names who is in the room once each, in the order they came, with their records and the unknown face apart', async () => {
    const res = await post(clip('class.mp4'), 'Monday lecture.mp4');
    expect(res.status, res.body).toBe(200);
    const answer = JSON.parse(res.body) as VideoAnswer;
    expect(answer).toMatchObject({
      name: 'Monday lecture',
      container: 'mp4',
      durationSeconds: 10,
      frameSeconds: 1,
      framesSeen: 10,
      unknown: { faces: 4, mostInOneFrame: 2, people: 2, firstSeenSeconds: 4 },
      recordFields: ['id', 'major', 'year'],
      csvKey: 'rosters/Monday lecture.csv',
    });
    expect(
      answer.students.map(({ name, firstSeenSeconds, frames, record }) => ({ name, firstSeenSeconds, frames, record })),
    ).toEqual([
      {
        name: 'Jennifer Lopez',
        firstSeenSeconds: 0,
        frames: 4,
        record: { id: 'S-1001', major: 'Physics, Applied', year: '3' },
      },
      {
        name: 'Hans Blix',
        firstSeenSeconds: 2,
        frames: 2,
        record: { id: 'S-1002', major: 'Law "International"', year: '4' },
      },
      // No record: reported all the same.
      { name: 'Ricardo Lagos', firstSeenSeconds: 8, frames: 2, record: undefined },
    ]);
    for (const s of answer.students) expect(s.bestSimilarity).toBeGreaterThanOrEqual(stack.config.matching.threshold!);
    // The video's own stages ride on the answer, as recognition's do.
    expect(res.headers.get('server-timing')).toMatch(/probe;dur=[\d.]+, frames;dur=[\d.]+, decode;dur=.*records;dur=/);
  }, 120_000);

  it('counts a stranger once: three students and one stranger in two frames of a 640×480 close-up', async () => {
    // Aaron Sorkin's photo, scaled up with its frame, also gets a box on part of his face: counted, it made
    // 8 unknown faces and "at least 2 unknown people" of him.
    const path = await makeClip(
      ffmpeg!,
      [
        { image: photo('Jennifer_Lopez', 4), seconds: 2 },
        { image: photo('Hans_Blix', 4), seconds: 2 },
        { image: photo('Aaron_Sorkin', 0), seconds: 2 },
        { image: photo('Ricardo_Lagos', 4), seconds: 2 },
      ],
      clip('stranger.mp4'),
    );
    const res = await post(path, 'stranger.mp4');
    expect(res.status, res.body).toBe(200);
    const answer = JSON.parse(res.body) as VideoAnswer;
    expect(answer.students.map((s) => s.name)).toEqual(['Jennifer Lopez', 'Hans Blix', 'Ricardo Lagos']);
    expect(answer.unknown).toEqual({ faces: 2, mostInOneFrame: 1, people: 1, firstSeenSeconds: 4 });
  }, 120_000);

  it('answers the CSV with Accept: text/csv, the one stored as rosters/<stem>.csv in the out-bucket', async () => {
    const res = await post(clip('class.mp4'), 'Monday lecture.mp4', 'text/csv');
    expect(res.status, res.body).toBe(200);
    expect(res.type).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="Monday lecture.csv"');
    const stored = await s3.send(
      new GetObjectCommand({ Bucket: stack.config.resources.outBucket, Key: 'rosters/Monday lecture.csv' }),
    );
    expect(await stored.Body!.transformToString()).toBe(res.body);
    const lines = res.body.split('\r\n');
    expect(lines[0]).toBe('name,id,major,year,first_seen_seconds,best_similarity,faces_seen');
    expect(lines[1]).toMatch(/^Jennifer Lopez,S-1001,"Physics, Applied",3,0\.0,0\.\d{4},4$/);
    expect(lines[2]).toMatch(/^Hans Blix,S-1002,"Law ""International""",4,2\.0,0\.\d{4},2$/);
    expect(lines[3]).toMatch(/^Ricardo Lagos,,,,8\.0,0\.\d{4},2$/);
    expect(lines.slice(4)).toEqual(['Unknown,,,,4.0,,4', '']);
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r['name'])).toEqual(['Jennifer Lopez', 'Hans Blix', 'Ricardo Lagos', 'Unknown']);
  }, 120_000);

  it('keeps a roster whatever an image upload is named: "Monday lecture.csv.jpg" labels beside it, not over it', async () => {
    const form = new FormData();
    form.append('inputFile', new Blob([readFileSync(photo('Hans_Blix', 4))]), 'Monday lecture.csv.jpg');
    const res = await fetch(`${stack.web.url}/`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Monday lecture.csv:Hans Blix');
    const { outBucket } = stack.config.resources;
    expect(await stored(outBucket, 'Monday lecture.csv')).toBe('Hans Blix');
    expect(await stored(outBucket, 'rosters/Monday lecture.csv')).toMatch(/^name,id,major,year,/);
  }, 60_000);

  it.each(['webm', 'mov'] as const)(
    'takes a %s video too',
    async (container) => {
      const path = await makeClip(ffmpeg!, [{ image: photo('Hans_Blix', 5), seconds: 2 }], clip(`blix.${container}`), {
        container,
      });
      const res = await post(path, `blix.${container}`);
      expect(res.status, res.body).toBe(200);
      const answer = JSON.parse(res.body) as VideoAnswer;
      expect(answer.container).toBe(container);
      expect(answer.students.map((s) => s.name)).toEqual(['Hans Blix']);
    },
    120_000,
  );

  it('finds a small face in a webcam’s 640x480 video: frames are looked at 1280 wide, in tiles', async () => {
    // A photo of 100 px (a face of some 40): the detector misses it in a 640x480 frame looked at whole.
    const path = await makeClip(ffmpeg!, [{ image: photo('Ricardo_Lagos', 4), seconds: 2 }], clip('small.mp4'), {
      faceSide: 100,
    });
    const res = await post(path, 'small.mp4');
    expect(res.status, res.body).toBe(200);
    const answer = JSON.parse(res.body) as VideoAnswer & { facesFound: number; image: object };
    expect(answer.image).toEqual({ width: 1280, height: 960 });
    expect(answer.facesFound).toBe(2);
    expect(answer.students.map((s) => s.name)).toEqual(['Ricardo Lagos']);
  }, 120_000);

  it('processes a video put under videos/ when S3 announces it (the video queue, as on AWS), answering no one', async () => {
    const { inBucket, outBucket } = stack.config.resources;
    await s3.send(
      new PutObjectCommand({
        Bucket: inBucket,
        Key: 'videos/Tuesday lecture.mp4',
        Body: readFileSync(clip('class.mp4')),
      }),
    );
    for (const body of [
      JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: inBucket }),
      s3Event('ObjectRemoved:Delete', 'videos/Tuesday+lecture.mp4'),
      s3Event('ObjectCreated:Put', 'videos/Tuesday+lecture.mp4'),
    ])
      await sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.video, MessageBody: body }));
    const csv = await stored(outBucket, 'rosters/Tuesday lecture.csv');
    expect(csv.split('\r\n').map((l) => l.split(',')[0])).toEqual([
      'name',
      'Jennifer Lopez',
      'Hans Blix',
      'Ricardo Lagos',
      'Unknown',
      '',
    ]);
    await until(
      async () => {
        const d = await queueDepth(sqs, stack.queues.video);
        return d.visible + d.inFlight === 0;
      },
      30_000,
      'the video queue to empty',
    );
  }, 120_000);

  it('says why a video put under videos/ was refused, under refusals/', async () => {
    const { inBucket, outBucket } = stack.config.resources;
    const path = await makeClip(ffmpeg!, [{ seconds: 2 }], clip('nobody.mp4'));
    await s3.send(new PutObjectCommand({ Bucket: inBucket, Key: 'videos/nobody.mp4', Body: readFileSync(path) }));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.video,
        MessageBody: s3Event('ObjectCreated:Put', 'videos/nobody.mp4'),
      }),
    );
    const text = await stored(outBucket, 'refusals/nobody.txt');
    expect(text).toBe(`${sentence('VIDEO_NO_FACES', { file: 'nobody', frames: 2 })}\n`);
    // A video deleted before a worker took its event: said the same way, named from its key.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.video,
        MessageBody: s3Event('ObjectCreated:Put', 'videos/ghost.mp4'),
      }),
    );
    expect(await stored(outBucket, 'refusals/ghost.txt')).toBe(`${sentence('IMAGE_GONE', {})}\n`);
  }, 120_000);

  describe('refused by the web tier, with nothing stored or queued', () => {
    const cases: [string, () => Promise<string>, string, number, keyof typeof ERROR_CATALOGUE, object][] = [
      [
        'a text file named .mp4',
        async () => (writeFileSync(clip('notes.mp4'), 'these are my notes'), clip('notes.mp4')),
        'notes.mp4',
        415,
        'NOT_A_VIDEO',
        { file: 'notes.mp4' },
      ],
      [
        'an empty file',
        async () => (writeFileSync(clip('empty.mp4'), ''), clip('empty.mp4')),
        'empty.mp4',
        400,
        'EMPTY_FILE',
        { file: 'empty.mp4' },
      ],
      [
        'a truncated file (its header was at the end)',
        async () => {
          copyFileSync(clip('class.mp4'), clip('cut.mp4'));
          truncateSync(clip('cut.mp4'), Math.floor(statSync(clip('cut.mp4')).size * 0.6));
          return clip('cut.mp4');
        },
        'cut.mp4',
        422,
        'VIDEO_UNREADABLE',
        { file: 'cut.mp4', reason: '' },
      ],
      [
        'a video with no frames',
        async () =>
          lavfiClip(ffmpeg!, 'color=c=gray:s=64x64:r=1', clip('no-frames.mp4'), ['-frames:v', '0', '-c:v', 'libx264']),
        'no-frames.mp4',
        422,
        'VIDEO_NO_PICTURE',
        { file: 'no-frames.mp4' },
      ],
      [
        'sound without a picture',
        async () => lavfiClip(ffmpeg!, 'anullsrc=r=8000:cl=mono', clip('sound.mp4'), ['-t', '2', '-c:a', 'aac']),
        'sound.mp4',
        422,
        'VIDEO_NO_PICTURE',
        { file: 'sound.mp4' },
      ],
      [
        'a 10-hour video',
        async () => lavfiClip(ffmpeg!, 'color=c=gray:s=64x64:r=1/60', clip('long.mp4'), ['-t', '36000', ...CODECS.mp4]),
        'long.mp4',
        422,
        'VIDEO_TOO_LONG',
        { file: 'long.mp4', seconds: 36000, limitSeconds: 10800 },
      ],
      [
        'an 8K video',
        async () => lavfiClip(ffmpeg!, 'color=c=gray:s=7680x4320:r=1', clip('8k.mp4'), ['-t', '1', ...CODECS.mp4]),
        '8k.mp4',
        422,
        'VIDEO_RESOLUTION_TOO_HIGH',
        { file: '8k.mp4', width: 7680, height: 4320, limit: 3840 },
      ],
      [
        'a video over the size limit',
        async () =>
          lavfiClip(ffmpeg!, 'testsrc2=s=640x480:r=25', clip('big.mp4'), [
            '-t',
            '20',
            '-c:v',
            'libx264',
            '-preset',
            'ultrafast',
            '-crf',
            '10',
          ]),
        'big.mp4',
        413,
        'VIDEO_TOO_LARGE',
        { limitBytes: 2 * 1024 * 1024 },
      ],
    ];
    it.each(cases)(
      '%s',
      async (_what, make, name, status, code, params) => {
        const path = await make();
        const before = await uploadsStored();
        const res = await post(path, name);
        expect(res.status, res.body).toBe(status);
        expect(res.code).toBe(code);
        if (code === 'VIDEO_UNREADABLE')
          expect(res.body).toMatch(
            /^The video "cut\.mp4" is damaged or truncated and cannot be read \(moov atom not found; Invalid data found when processing input\)\.$/,
          );
        else expect(res.body).toBe(sentence(code, params));
        expect(await uploadsStored()).toBe(before);
        for (const queue of [stack.queues.request, stack.queues.video]) {
          const depth = await queueDepth(sqs, queue);
          expect(depth.visible + depth.inFlight).toBe(0);
        }
      },
      120_000,
    );

    it('a video without the API key, or with a wrong one: students’ records are personal', async () => {
      const before = await uploadsStored();
      const none = await post(clip('class.mp4'), 'class.mp4', undefined, '');
      expect([none.status, none.code, none.body]).toEqual([401, 'API_KEY_MISSING', sentence('API_KEY_MISSING', {})]);
      const wrong = await post(clip('class.mp4'), 'class.mp4', undefined, 'not-the-key-0123456789');
      expect([wrong.status, wrong.code]).toEqual([403, 'API_KEY_WRONG']);
      expect(await uploadsStored()).toBe(before);
    });

    it('a request without a video, and a GET', async () => {
      const form = new FormData();
      form.append('note', 'no file');
      const res = await fetch(`${url}/videos`, { method: 'POST', body: form, headers: { 'X-API-Key': KEY } });
      expect([res.status, await res.text()]).toEqual([400, sentence('MISSING_FILE', {})]);
      const get = await fetch(`${url}/videos`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
    });
  });

  describe('refused by the worker, which lives on', () => {
    it('a video cut short though its header is whole', async () => {
      const path = await makeClip(ffmpeg!, [{ image: photo('Hans_Blix', 5), seconds: 10 }], clip('short.mp4'), {
        extra: ['-movflags', '+faststart'],
      });
      truncateSync(path, Math.floor(statSync(path).size * 0.4));
      const res = await post(path, 'short.mp4');
      expect([res.status, res.code], res.body).toEqual([422, 'VIDEO_TRUNCATED']);
      expect(res.body).toMatch(
        /^The video "short\.mp4" stops after \d s though its header says 10 s: it is truncated; send the whole file\.$/,
      );
    }, 120_000);

    it('a video whose header claims far more than it holds: truncated, with its real length', async () => {
      const path = await makeClip(ffmpeg!, [{ image: photo('Hans_Blix', 5), seconds: 6 }], clip('liar.mp4'));
      // The movie header (mvhd) says 5000 s: version 0, then creation, modification, timescale, duration.
      const bytes = readFileSync(path);
      const mvhd = bytes.indexOf('mvhd');
      const timescale = bytes.readUInt32BE(mvhd + 16);
      bytes.writeUInt32BE(5000 * timescale, mvhd + 20);
      writeFileSync(path, bytes);
      const res = await post(path, 'liar.mp4');
      expect([res.status, res.code], res.body).toEqual([422, 'VIDEO_TRUNCATED']);
      expect(res.body).toMatch(
        /^The video "liar\.mp4" stops after [56] s though its header says 5000 s: it is truncated; send the whole file\.$/,
      );
    }, 120_000);

    it('a video of an empty room', async () => {
      const path = await makeClip(ffmpeg!, [{ seconds: 3 }], clip('empty-room.mp4'));
      const res = await post(path, 'empty-room.mp4');
      expect([res.status, res.code, res.body]).toEqual([
        422,
        'VIDEO_NO_FACES',
        sentence('VIDEO_NO_FACES', { file: 'empty-room.mp4', frames: 3 }),
      ]);
    }, 120_000);

    it('and the workers answer the next video as before', async () => {
      const res = await post(clip('class.mp4'), 'Wednesday.mp4');
      expect(res.status, res.body).toBe(200);
      expect((JSON.parse(res.body) as VideoAnswer).students).toHaveLength(3);
    }, 120_000);
  });

  it('keeps the records when the emulator process dies (dynalite’s data is in the data directory)', async () => {
    const before = stack.emulator.pid;
    stack.emulator.kill('SIGKILL');
    await until(() => stack.emulator.pid !== before, 30_000, 'the emulator to be started again');
    await until(
      async () => (await lookup(['Jennifer Lopez']).catch(() => ({ records: new Map() }))).records.size === 1,
      30_000,
      'the records to be read again',
    );
    expect(Object.fromEntries((await lookup(['Jennifer Lopez', 'Hans Blix'])).records)).toEqual({
      'Jennifer Lopez': { id: 'S-1001', major: 'Physics, Applied', year: '3' },
      'Hans Blix': { id: 'S-1002', major: 'Law "International"', year: '4' },
    });
  }, 120_000);
});

describe.skipIf(!ffmpeg)('a video beside images, on one worker', () => {
  let stack: LocalStack;
  const dir = newScratchDir('facefleet-long-');

  beforeAll(async () => {
    stack = await startTestStack({ MIN_WORKERS: '1', MAX_WORKERS: '1', VIDEOS_REQUIRE_KEY: 'false' });
    await enrollCourseSubset(stack, 3);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers an image sent while the worker looks at a long video, before the video', async () => {
    const url = `http://127.0.0.1:${stack.web.port}`;
    const path = await makeClip(
      ffmpeg!,
      [{ image: `${COURSE_IMAGES}test_000.jpg`, seconds: 90 }],
      join(dir, 'long.mp4'),
    );
    const sqs = createSqsClient(stack.config);
    const done: string[] = [];
    const form = (bytes: Uint8Array, name: string) => {
      const f = new FormData();
      f.append('inputFile', new Blob([bytes]), name);
      return f;
    };
    const video = fetch(`${url}/videos`, { method: 'POST', body: form(readFileSync(path), 'long.mp4') }).then(
      async (res) => done.push(`video ${res.status} ${((await res.json()) as VideoAnswer).framesSeen} frames`),
    );
    // Once the worker holds the video, an image.
    await until(async () => (await queueDepth(sqs, stack.queues.video)).inFlight === 1, 30_000, 'the video taken');
    const image = fetch(url, {
      method: 'POST',
      body: form(readFileSync(`${COURSE_IMAGES}test_001.jpg`), 'test_001.jpg'),
    }).then(async (res) => done.push(`image ${res.status} ${await res.text()}`));
    await Promise.all([video, image]);
    sqs.destroy();
    // The image went by the request queue, the video by the video queue: the worker polls both, and the engine
    // takes the image between two of the video's frames.
    expect(done).toEqual(['image 200 test_001:Emily', 'video 200 90 frames']);
  }, 180_000);
});
