/**
 * What `npm start` is given, it keeps: the real `npm start` (src/local/main.ts) runs as a process with its own
 * data directory, is stopped with Ctrl-C's signal or killed outright (kill -9 of every process: npm start, the
 * emulator, the autoscaler and the workers), and started again on the same directory.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { forkStack, stopStack } from '../../scripts/lib/stack-process.js';
import { createS3Client, createSqsClient } from '../../src/shared/aws/clients.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { FleetRegistry } from '../../src/shared/fleet-registry.js';
import type { StackReadyMessage } from '../../src/shared/process.js';
import { queueDepth, resolveQueueUrls } from '../../src/shared/aws/resources.js';
import { COURSE_IMAGES, COURSE_LABELS, courseLabels } from '../helpers/fixtures.js';
import { newDataDir } from '../helpers/data-dirs.js';
import { upload } from '../helpers/http.js';
import { testSettings, until } from '../helpers/stack.js';

const labels = courseLabels();
const image = (stem: string) => readFileSync(`${COURSE_IMAGES}${stem}.jpg`);

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** One `npm start`, its log lines read as they come. */
class Stack {
  readonly lines: LogLine[] = [];
  private stderr = '';
  private readonly stderrEnded: Promise<unknown>;
  /** Its settings, with the emulator's endpoint once it runs. */
  env: NodeJS.ProcessEnv;
  ready!: StackReadyMessage;

  private constructor(
    env: NodeJS.ProcessEnv,
    readonly child: ChildProcess,
  ) {
    this.env = env;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) this.lines.push(JSON.parse(line) as LogLine);
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.stderrEnded = new Promise((r) => child.stderr!.once('end', r));
  }

  static async start(dir: string, settings: Record<string, string> = {}, args: string[] = []): Promise<Stack> {
    const env = {
      ...process.env,
      ...testSettings({
        DATA_DIR: dir,
        // The default names: two stacks are kept apart by their data directories alone.
        RESOURCE_PREFIX: 'facefleet',
        MIN_WORKERS: '0',
        MAX_WORKERS: '1',
        LOG_LEVEL: 'info',
        ...settings,
      }),
    };
    const { child, ready } = forkStack(env, { args, stdout: 'pipe', stderr: 'pipe' });
    const stack = new Stack(env, child);
    try {
      stack.ready = await ready;
    } catch (err) {
      await stack.stderrEnded;
      throw new Error(`${(err as Error).message}: ${stack.stderr}`, { cause: err });
    }
    stack.env = { ...env, AWS_ENDPOINT_URL: stack.ready.endpoint };
    return stack;
  }

  get url(): string {
    return `${this.ready.webUrl}/`;
  }

  log(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg.startsWith(msg));
  }

  /** The first line that starts with `msg`, once it has been read (log lines may follow the ready message). */
  async line(msg: string): Promise<LogLine> {
    await until(() => this.log(msg).length > 0, 10_000, `the log line "${msg}"`);
    return this.log(msg)[0]!;
  }

  s3(): S3Client {
    return createS3Client(loadConfig(this.env));
  }

  async label(stem: string): Promise<string | undefined> {
    const s3 = this.s3();
    try {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: 'facefleet-out-bucket', Key: stem }));
      return await Body!.transformToString();
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    } finally {
      s3.destroy();
    }
  }

  async enroll(): Promise<string> {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/enroll.ts', '--images', COURSE_IMAGES, '--labels', COURSE_LABELS],
      { env: this.env },
    );
    return stdout;
  }

  /** Ctrl-C: SIGINT to npm start, which stops every part. */
  stop(): Promise<number | null> {
    return stopStack(this.child, 'SIGINT');
  }

  /** Its processes: npm start (with the web tier), the emulator, the autoscaler, the workers. */
  pids(): number[] {
    const { pids, fleetDir } = this.ready;
    const workers = new FleetRegistry(fleetDir).entries().map((e) => e.pid);
    return [pids.webTier, pids.emulator, ...(pids.autoscaler === undefined ? [] : [pids.autoscaler]), ...workers];
  }

  /** kill -9 of every process of the stack at once. */
  async killAll(): Promise<number> {
    const all = this.pids();
    const exited = new Promise((r) => this.child.once('exit', r));
    for (const pid of all) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
    return all.length;
  }
}

describe('a local stack keeps what it was given', () => {
  it('keeps the gallery and every stored object across a clean stop and a kill -9 of every process', async () => {
    const dir = newDataDir();
    let stack = await Stack.start(dir);
    expect((await stack.line('ready on')).msg).toContain('the gallery is empty: enroll people first');
    expect(await stack.enroll()).toMatch(/Enrolled 10 faces of 8 people/);
    expect((await upload(stack.url, image('test_000'), 'test_000.jpg')).body).toBe('test_000:Paul');
    expect(await stack.stop()).toBe(0);

    stack = await Stack.start(dir);
    expect(await stack.line('ready:')).toMatchObject({ people: 8, galleryVersion: 1 });
    expect(await stack.label('test_000')).toBe('Paul');
    expect((await upload(stack.url, image('test_001'), 'test_001.jpg')).body).toBe('test_001:Emily');
    // Every process of the stack runs the Node.js that runs the tests: the project's, from node_modules/.bin.
    if (existsSync('/proc/self/exe')) {
      const node = realpathSync(process.execPath);
      for (const pid of stack.pids()) expect(readlinkSync(`/proc/${pid}/exe`), `pid ${pid}`).toBe(node);
    }
    const killed = await stack.killAll();
    expect(killed).toBeGreaterThanOrEqual(4); // npm start, emulator, autoscaler, one worker at least

    stack = await Stack.start(dir);
    await stack.line('the stack that used this data directory before did not stop');
    expect(await stack.line('ready:')).toMatchObject({ people: 8, galleryVersion: 1 });
    expect([await stack.label('test_000'), await stack.label('test_001')]).toEqual(['Paul', 'Emily']);
    expect((await upload(stack.url, image('test_002'), 'test_002.jpg')).body).toBe('test_002:Bob');
    expect(await stack.stop()).toBe(0);
  });

  it('answers, after a restart, every request queued or in flight when the whole stack was killed', async () => {
    const dir = newDataDir();
    // In-flight messages come back after the visibility timeout: short here, so the test is quick.
    const settings = { VISIBILITY_TIMEOUT_SECONDS: '12', WORKER_BATCH_SIZE: '5' };
    let stack = await Stack.start(dir, settings);
    await stack.enroll();
    const stems = [...labels.keys()].slice(0, 100);
    let answered = 0;
    const outcomes = stems.map((stem) =>
      upload(stack.url, image(stem), `${stem}.jpg`).then(
        (r) => {
          answered++;
          return { stem, body: r.body };
        },
        (err: Error) => ({ stem, error: String((err.cause as Error | undefined)?.message ?? err.message) }),
      ),
    );
    // Kill once the first worker answers: the rest are queued, held by the worker, or on their way back.
    await until(() => answered >= 3, 60_000, 'the first answers');
    await stack.killAll();
    const settled = await Promise.all(outcomes);
    const cut = settled.filter((o) => 'error' in o);
    // A client whose web tier dies under it sees its connection close without an answer.
    expect(cut.length).toBeGreaterThan(50);

    stack = await Stack.start(dir, settings);
    const kept = await stack.line('requests kept from the last run');
    const { visible, inFlight, results } = kept as unknown as { visible: number; inFlight: number; results: number };
    expect(visible).toBeGreaterThan(0);
    const config = loadConfig(stack.env);
    const sqs = createSqsClient(config);
    const queues = await resolveQueueUrls(config, sqs);
    const empty = async () => {
      const depths = await Promise.all(
        [queues.request, queues.response, queues.deadLetter].map((q) => queueDepth(sqs, q)),
      );
      return depths.every((d) => d.visible + d.inFlight === 0);
    };
    await until(empty, 90_000, 'every queue to drain after the restart');
    sqs.destroy();
    for (const stem of stems) expect(await stack.label(stem), stem).toBe(labels.get(stem));
    const unclaimed = stack.log('a result arrived for a request that no one waits for');
    const ids = unclaimed.map((l) => l['requestId']);
    expect(new Set(ids).size).toBe(ids.length); // each logged once
    expect(unclaimed.length).toBeGreaterThanOrEqual(visible);
    expect(unclaimed.length).toBeLessThanOrEqual(visible + inFlight + results);
    const seen = [...new Set(cut.map((o) => o.error))].join(', ');
    console.log(
      `durability: ${stems.length} requests, ${stems.length - cut.length} answered before the kill -9 (the others' ` +
        `clients saw: ${seen}); at restart ` +
        `${visible} queued + ${inFlight} held by the killed worker + ${results} results waiting; after it ` +
        `${stems.length} of ${stems.length} labels in the out-bucket, ${unclaimed.length} unclaimed results logged ` +
        'once and consumed, every queue empty',
    );
    expect(await stack.stop()).toBe(0);
  });

  it('starts empty with --fresh, and says what it deleted', async () => {
    const dir = newDataDir();
    let stack = await Stack.start(dir);
    await stack.enroll();
    expect((await upload(stack.url, image('test_003'), 'test_003.jpg')).body).toBe('test_003:German');
    await stack.stop();

    stack = await Stack.start(dir, {}, ['--fresh']);
    const emptied = await stack.line('--fresh: the data directory was emptied');
    expect(emptied['deleted']).toMatch(/^\d+ objects \(.*3 in facefleet-gallery-bucket.*\), every queue/);
    expect((await stack.line('ready on')).msg).toContain('the gallery is empty');
    expect(await stack.label('test_003')).toBeUndefined();
    const s3 = stack.s3();
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'facefleet-in-bucket' }));
    s3.destroy();
    expect(listed.KeyCount).toBe(0);
    await stack.stop();
  });

  it('keeps two stacks with their own data directories and ports apart, and refuses a second on one directory', async () => {
    const [dirA, dirB] = [newDataDir(), newDataDir()];
    const started = await Promise.allSettled([Stack.start(dirA), Stack.start(dirB)]);
    // One that failed to start must not leave the other running after the test.
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
      throw failed.reason;
    }
    const [a, b] = started.map((r) => (r as PromiseFulfilledResult<Stack>).value) as [Stack, Stack];
    try {
      await a.enroll();
      expect((await upload(a.url, image('test_004'), 'test_004.jpg')).body).toBe('test_004:Emily');
      const other = await upload(b.url, image('test_004'), 'test_004.jpg');
      expect(other.body).toContain('No people are enrolled yet');
      expect(await b.label('test_004')).toBeUndefined();
      await expect(Stack.start(dirA)).rejects.toThrow(`${dirA} is in use by another facefleet stack`);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
