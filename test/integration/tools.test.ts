/**
 * The workload generator and the benchmark as a user runs them: real commands in child processes against a
 * real local stack. The benchmark runs tiny here, only to prove it works; its figures are not checked.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../src/local/stack.js';
import { COURSE_DIR, COURSE_IMAGES, COURSE_LABELS, LFW_DIR, LFW_IMAGES } from '../helpers/fixtures.js';
import { webPolicy } from '../../src/deploy/iam-policies.js';
import { runScript } from '../helpers/scripts.js';
import { enroll, startTestStack } from '../helpers/stack.js';

const run = (script: string, args: string[]) => runScript(script, args);

// Every file the tests write goes under one directory, removed at the end.
const scratch = mkdtempSync(join(tmpdir(), 'facefleet-tools-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const otherCsv = join(mkdtempSync(join(scratch, 'csv-')), 'people.csv');
writeFileSync(otherCsv, 'file,name\ntest_000.jpg,Paul\n');

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('npm run workload', () => {
  let stack: LocalStack;
  let url: string;

  beforeAll(async () => {
    stack = await startTestStack();
    url = `${stack.web.url}/`;
    await stack.fleet.whenRunning(2);
    await enroll(stack, ['--images', COURSE_IMAGES, '--labels', COURSE_LABELS]);
    // Workers refresh the gallery every second in tests.
    await new Promise((r) => setTimeout(r, 1500));
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const workload = (...args: string[]) => run('scripts/workload.ts', ['--url', url, ...args]);

  it('sends the requests, checks them, and prints the official summary', async () => {
    const r = await workload('--images', COURSE_IMAGES, '--labels', COURSE_LABELS, '-n', '12', '-c', '4');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Total number of requests: 12\n');
    expect(r.stdout).toContain('Total number of requests completed successfully: 12\n');
    expect(r.stdout).toContain('Total number of failed requests: 0\n');
    expect(r.stdout).toContain('Total number of correct predictions : 12\n');
    expect(r.stdout).toContain('Total number of wrong predictions: 0\n');
    expect(r.stdout).toMatch(/Total Test Duration: \d+\.\d+ \(seconds\)/);
    expect(r.stdout).toMatch(/Latency \(ms\): p50 [\d.]+, p90 [\d.]+, p99 [\d.]+, max [\d.]+/);
    // Not a terminal: progress comes as plain lines on stderr.
    expect(r.stderr).toContain('12/12 answered after');
  });

  it('prints the same as JSON, over keep-alive connections and a random sample', async () => {
    const args = ['--images', COURSE_IMAGES, '--labels', COURSE_LABELS, '-n', '8', '--pick', 'random', '--seed', '3'];
    const r = await workload(...args, '--keep-alive', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ totalRequests: 8, succeeded: 8, failed: 0, correct: 8, wrong: 0 });
    expect(r.stderr).toBe('');
  });

  it('exits 1 and says what was wrong when answers do not match the labels', async () => {
    const dir = await mkdtemp(join(scratch, 'labels-'));
    const wrongLabels = join(dir, 'labels.csv');
    const csv = await readFile(COURSE_LABELS, 'utf8');
    await writeFile(wrongLabels, csv.replace('test_000,', 'test_000,Nobody_').replace(/\r/g, ''));
    const r = await workload('--images', COURSE_IMAGES, '--labels', wrongLabels, '-n', '3', '--json');
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ correct: 2, wrong: 1 });
    expect(result.problems[0].reason).toMatch(/^expected test_000:Nobody_\w+, got test_000:\w+$/);
  });

  it.each([
    [
      'no such folder',
      ['--images', '/nonexistent/images'],
      /^workload: cannot read the image folder \/nonexistent\/images/,
    ],
    [
      'a CSV without the columns',
      ['--images', COURSE_IMAGES, '--labels', otherCsv],
      /must have the columns Image and Results/,
    ],
    [
      'a bad number',
      ['--images', COURSE_IMAGES, '-c', 'many'],
      /option '-c, --concurrency <n>' argument 'many' is invalid/,
    ],
    ['not a URL', ['--images', COURSE_IMAGES, '--url', 'localhost'], /is not a URL/],
  ])('ends with one line for %s', async (_name, args, message) => {
    const r = await run('scripts/workload.ts', args);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('ends with one line for an empty folder and for an unreachable URL', async () => {
    const empty = await mkdtemp(join(scratch, 'empty-'));
    const r1 = await run('scripts/workload.ts', ['--images', empty]);
    expect([r1.code, r1.stderr.trim()]).toEqual([2, `workload: ${empty} holds no .jpg, .jpeg, .png or .webp files`]);
    const port = await closedPort();
    const r2 = await run('scripts/workload.ts', ['--images', COURSE_IMAGES, '--url', `http://127.0.0.1:${port}/`]);
    expect(r2.code).toBe(2);
    expect(r2.stderr.trim()).toMatch(new RegExp(`^workload: cannot reach http://127.0.0.1:${port}/: .*ECONNREFUSED`));
  });
});

describe('npm run bench (tiny)', () => {
  it('measures the limit and the pipeline and writes the JSON, the CSV and the chart', async () => {
    const out = await mkdtemp(join(scratch, 'bench-'));
    const r = await run('scripts/bench.ts', [
      ...['--requests', '6', '--concurrency', '3', '--idle-requests', '2', '--limit-images', '3'],
      ...['--workers', '1', '--model-runs', '3', '--out', out, '--json'],
      ...['--course', COURSE_DIR, '--lfw', LFW_DIR],
    ]);
    expect(r.stderr).not.toMatch(/bench: /);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.machine).toMatchObject({ cores: expect.any(Number), cpuModel: expect.any(String) });
    for (const value of [
      result.limit.imagesPerSecond,
      result.limit.singleImageMs,
      result.pipeline.requestsPerSecond,
      result.pipeline.idleLatencyMs,
      result.ratios.throughput,
    ]) {
      expect(value).toBeGreaterThan(0);
    }
    expect(typeof result.ratios.latencyOverheadMs).toBe('number');
    expect(result.pipeline).toMatchObject({ requests: 6, correct: 6, failed: 0 });
    // The bare-model reference, and the engine and the worker against it.
    expect(result.machine.cpuFlags).toEqual(expect.any(Array));
    expect(result.limit.referenceMs).toBeGreaterThan(0);
    expect(result.limit.referenceMs).toBeCloseTo(
      result.limit.course.reference.decodeMs +
        result.limit.course.reference.modelsMs.detector +
        result.limit.course.reference.modelsMs.landmarks +
        result.limit.course.reference.modelsMs.embedder,
      1,
    );
    for (const model of ['detector', 'landmarks', 'embedder']) {
      const { chosen, ms } = result.limit.models[model];
      expect(Object.keys(ms)).toEqual(['disabled', 'basic', 'extended', 'all']);
      expect(ms[chosen]).toBeGreaterThan(0);
      expect(result.limit.course.reference.modelsMs[model]).toBeGreaterThan(0);
    }
    expect(result.ratios.engineOverReference).toBeGreaterThan(0);
    // Every process kind did some work for the six requests, and each worker's memory was read twice.
    const cpu = result.pipeline.cpuPerRequestMs;
    expect(Object.keys(cpu).sort()).toEqual(['autoscaler', 'emulator', 'loadGenerator', 'webTier', 'worker']);
    expect(cpu.worker + cpu.webTier + cpu.emulator).toBeGreaterThan(0);
    expect(result.ratios.workerCpuOverEngine).toBeGreaterThanOrEqual(0);
    expect(result.pipeline.workerMemoryMiB.afterWarmUp).toHaveLength(1);
    expect(result.pipeline.workerMemoryMiB.afterWorkload[0]).toBeGreaterThan(50);
    const files = await readdir(out);
    const csv = files.find((f) => f.endsWith('-timeline.csv'))!;
    expect((await readFile(join(out, csv), 'utf8')).split('\n')[0]).toBe(
      'seconds,visible,in_flight,workers,completed_per_second',
    );
    const svg = files.find((f) => f.endsWith('-timeline.svg'))!;
    expect(await readFile(join(out, svg), 'utf8')).toMatch(/^<svg /);
    expect(existsSync(join(out, csv.replace('-timeline.csv', '.json')))).toBe(true);
  });
});

describe('npm run embed', () => {
  const image = (name: string) => `${LFW_IMAGES}${name}.jpg`;

  it('prints one JSON line per image, every face with its box, score and 512 numbers', async () => {
    const list = join(await mkdtemp(join(scratch, 'embed-')), 'list.txt');
    await writeFile(list, `${image('Hans_Blix_0003')}\n\n${image('Tiger_Woods_0001')}\n`);
    const result = await run('scripts/embed.ts', [image('Tiger_Woods_0003'), '--list', list]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual([
      image('Tiger_Woods_0003'),
      image('Hans_Blix_0003'),
      image('Tiger_Woods_0001'),
    ]);
    // Hans Blix 0003 has people behind him: the subject, in the middle, comes first.
    expect(lines[1].faces.length).toBeGreaterThan(1);
    const [x1, , x2] = lines[1].faces[0].box;
    expect((x1 + x2) / 2).toBeGreaterThan(90);
    expect((x1 + x2) / 2).toBeLessThan(160);
    for (const line of lines) {
      expect(line).toMatchObject({ width: 250, height: 250 });
      for (const face of line.faces) {
        expect(face.box).toHaveLength(4);
        expect(face.score).toBeGreaterThan(0.7);
        expect(face.embedding).toHaveLength(512);
        expect(face.embedding.reduce((s: number, v: number) => s + v * v, 0)).toBeCloseTo(1, 3);
      }
    }
    // The same person's two photos are more alike than two people's.
    const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    const [tiger3, blix, tiger1] = lines.map((l) => l.faces[0].embedding);
    expect(dot(tiger3, tiger1)).toBeGreaterThan(dot(tiger3, blix));
  });

  it('prints "faces": [] for a picture without a face and an error line for a file it cannot read', async () => {
    const dir = await mkdtemp(join(scratch, 'embed-'));
    const blank = join(dir, 'blank.png');
    await sharp({ create: { width: 120, height: 90, channels: 3, background: '#888' } })
      .png()
      .toFile(blank);
    const result = await run('scripts/embed.ts', [blank, join(dir, 'missing.jpg')]);
    expect(result.code).toBe(1);
    const [none, missing] = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(none).toMatchObject({ file: blank, faces: [] });
    expect(missing.error).toMatch(/no such file/);
  });
});

describe('npm run bench:accuracy (tiny)', () => {
  it('prints every figure, as text and as JSON', async () => {
    const text = await run('scripts/bench-accuracy.ts', ['--dataset', LFW_DIR, '--pairs', '6']);
    expect(text.code, text.stderr).toBe(0);
    for (const heading of [
      /images\/s/,
      /no face found/,
      /accuracy .*cross-validated/,
      /ROC AUC/,
      /TAR .* at FAR/,
      /rank-1/,
      /MATCH_THRESHOLD=0.45/,
      /centred/,
    ]) {
      expect(text.stdout).toMatch(heading);
    }
    const json = await run('scripts/bench-accuracy.ts', ['--dataset', LFW_DIR, '--pairs', '6', '--json']);
    const report = JSON.parse(json.stdout);
    expect(report.pairs).toBe(12);
    expect(report.verification.accuracy).toBeGreaterThan(0.5);
    expect(report.unknownThreshold.table.some((r: { configured: boolean }) => r.configured)).toBe(true);
    expect(Object.keys(report.rules)).toEqual(['largest', 'score', 'centred']);
  });

  it('says what is missing when the dataset is not there', async () => {
    const result = await run('scripts/bench-accuracy.ts', ['--dataset', '/nonexistent']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bench:accuracy: cannot read \/nonexistent\/labels.csv/);
  });
});

describe('npm run aws:* (no AWS calls)', () => {
  it('refuses a bad CIDR or AMI id with a one-line reason', async () => {
    const cidr = await run('scripts/aws.ts', ['provision', '--allow-cidr', '10.0.0.0/33']);
    expect(cidr.code).toBe(1);
    expect(cidr.stderr).toMatch(/--allow-cidr .* must be an IPv4 CIDR such as 203\.0\.113\.7\/32/);
    const ami = await run('scripts/aws.ts', ['provision', '--allow-cidr', '10.0.0.0/8', '--ami', 'ubuntu']);
    expect(ami.stderr).toMatch(/must be an AMI id like ami-0123456789abcdef0/);
    const prefix = await run('scripts/aws.ts', ['status', '--prefix', 'Bad_Prefix']);
    expect(prefix.code).toBe(2);
    expect(prefix.stderr).toMatch(/RESOURCE_PREFIX .*lowercase/);
  });

  it('prints a deployment’s IAM policy for a web tier off AWS, and refuses what is not one', async () => {
    const web = await run('scripts/aws.ts', [
      'policy',
      'web',
      '--prefix',
      'asu1234',
      '--region',
      'eu-west-3',
      '--account',
      '123456789012',
    ]);
    expect(web.code).toBe(0);
    expect(JSON.parse(web.stdout)).toEqual(
      webPolicy({ prefix: 'asu1234', region: 'eu-west-3', account: '123456789012' }),
    );
    const group = await run('scripts/aws.ts', ['provision', '--allow-cidr', '10.0.0.0/8', '--warm-pool', '3']);
    expect(group.stderr).toMatch(/--warm-pool needs --group/);
    const wrong = await run('scripts/aws.ts', ['policy', 'admin', '--account', '123456789012']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/the policy is web or worker/);
  });

  it('runs the web tier off AWS only with a credentials file outside the project, readable by its owner alone', async () => {
    const dir = mkdtempSync(join(scratch, 'off-aws-'));
    const envFile = join(dir, 'facefleet.asu1234.env');
    writeFileSync(envFile, 'FACEFLEET_STACK=aws\nRESOURCE_PREFIX=asu1234\n');
    const credentials = join(dir, 'credentials');
    writeFileSync(credentials, '[asu1234-web]\naws_access_key_id = x\naws_secret_access_key = y\n', { mode: 0o644 });
    const offAws = (...args: string[]) =>
      new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile('bash', ['deploy/off-aws/run.sh', ...args], (err, _stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }),
        ),
      );
    expect((await offAws(envFile, credentials, 'asu1234-web')).stderr).toMatch(
      /readable by others \(mode 644\): chmod 600/,
    );
    chmodSync(credentials, 0o600);
    expect((await offAws(envFile, credentials, 'someone-else')).stderr).toMatch(/has no profile \[someone-else\]/);
    const inside = join(process.cwd(), `.off-aws-test-${process.pid}`);
    writeFileSync(inside, '[asu1234-web]\n', { mode: 0o600 });
    try {
      expect((await offAws(envFile, inside, 'asu1234-web')).stderr).toMatch(/inside the project/);
    } finally {
      rmSync(inside);
    }
    expect((await offAws(envFile)).code).toBe(2);
  });

  it('will not tear down without a terminal unless told --yes', async () => {
    const result = await run('scripts/aws.ts', ['teardown', '--prefix', 'nothing-here']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/pass --yes to run it without a terminal/);
  });
});
