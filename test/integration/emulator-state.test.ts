/**
 * The emulator's state on disk: objects as plain files (long names included), messages in SQLite, torn objects
 * set aside after a crash, and queues that take a new run's settings. Each test starts the real emulator on a
 * data directory, stops it, and starts another on the same directory.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { createS3Client, createSqsClient } from '../../src/shared/aws/clients.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { dataDirLayout } from '../../src/shared/config/data-dir.js';
import { startEmulator, type Emulator } from '../../src/local/emulator.js';
import { fileKey, recoverObjectFiles, stagedFiles, type Recovery } from '../../src/local/emulator-files.js';
import { ensureResources } from '../../src/shared/aws/resources.js';

let dir: string;
let emulator: Emulator | undefined;

afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}, onRecovered?: (r: Recovery) => void) {
  await emulator?.stop();
  emulator = await startEmulator({ port: 0, region: 'us-east-1', dataDir: dir, onRecovered });
  const config = loadConfig({ RESOURCE_PREFIX: 'state-test', AWS_ENDPOINT_URL: emulator.endpoint, ...env });
  return { config, s3: createS3Client(config), sqs: createSqsClient(config) };
}

const text = async (body: { transformToString(): Promise<string> } | undefined) => body!.transformToString();

describe('the emulator on a data directory', () => {
  it('keeps objects as plain files, long names included, and queued messages, across a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'emulator-state-'));
    let { config, s3, sqs } = await start();
    let queues = await ensureResources(config, s3, sqs);
    const bucket = config.resources.inBucket;
    const cjk = `uploads/0c7e/${'顔'.repeat(150)}.jpg`; // 450 bytes: too long for one file name
    const emoji = `${'😀'.repeat(100)}`;
    for (const [Key, Body] of [
      ['uploads/0c7e/test_000.jpg', 'plain'],
      [cjk, 'long'],
      [emoji, 'emoji'],
    ]) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
    }
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.request, MessageBody: 'kept' }));
    s3.destroy();
    sqs.destroy();

    // The plain file is there to read, under the key's own path.
    const objects = join(dataDirLayout(dir).s3, 'buckets', bucket, 'objects');
    expect(readFileSync(join(objects, 'uploads/0c7e/test_000.jpg.data'), 'utf8')).toBe('plain');

    ({ config, s3, sqs } = await start());
    queues = await ensureResources(config, s3, sqs);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual(['uploads/0c7e/test_000.jpg', cjk, emoji].sort());
    expect(await text((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: cjk }))).Body)).toBe('long');
    expect(await text((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: emoji }))).Body)).toBe('emoji');
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.request }));
    expect(Messages.map((m) => m.Body)).toEqual(['kept']);
    s3.destroy();
    sqs.destroy();
  });

  it('finishes or drops the writes a crash interrupted, sets aside torn objects, and serves the rest', async () => {
    dir = mkdtempSync(join(tmpdir(), 'emulator-state-'));
    const first = await start();
    let { s3, sqs } = first;
    await ensureResources(first.config, s3, sqs);
    const bucket = first.config.resources.galleryBucket;
    const body = (key: string, version: number) => JSON.stringify({ key, version, pad: 'x'.repeat(100) });
    const put = (Key: string, version: number) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: body(Key, version) }));
    for (const key of ['whole.json', 'torn.json', 'unreadable.json', 'renamed.json', 'staged.json']) await put(key, 1);
    const s3Dir = dataDirLayout(dir).s3;
    const objects = join(s3Dir, 'buckets', bucket, 'objects');
    const oldMeta = readFileSync(join(objects, 'renamed.json.meta.json'));
    await put('renamed.json', 2);
    s3.destroy();
    sqs.destroy();
    await emulator!.stop();
    emulator = undefined;
    // As a kill -9 leaves them. A write of version 2 stopped between its two renames: new bytes in place, new
    // metadata still staged, the old one in place.
    const renamed = stagedFiles(s3Dir, bucket, 'renamed.json');
    renameSync(join(objects, 'renamed.json.meta.json'), renamed.meta);
    writeFileSync(join(objects, 'renamed.json.meta.json'), oldMeta);
    // A write of version 2 stopped while staging: the object is still version 1.
    const staged = stagedFiles(s3Dir, bucket, 'staged.json');
    writeFileSync(staged.data, body('staged.json', 2).slice(0, 20));
    // Bytes cut short, metadata cut to nothing, bytes whose metadata was never written.
    truncateSync(join(objects, 'torn.json.data'), 10);
    writeFileSync(join(objects, 'unreadable.json.meta.json'), '');
    writeFileSync(join(objects, 'orphan.json.data'), 'no metadata');

    const recoveries: Recovery[] = [];
    ({ s3, sqs } = await start({}, (r) => recoveries.push(r)));
    expect(recoveries).toHaveLength(1);
    const { finished, dropped, damaged } = recoveries[0]!;
    expect(finished).toEqual([`${bucket}/renamed.json`]);
    expect(dropped).toEqual([`${bucket}/staged.json`]);
    const whole = Buffer.byteLength(body('torn.json', 1));
    expect(damaged.map((d) => [d.path, d.problem]).sort()).toEqual([
      ['orphan.json', 'no metadata'],
      ['torn.json', `10 bytes where the metadata records ${whole}`],
      ['unreadable.json', 'unreadable metadata'],
    ]);
    for (const d of damaged) expect(existsSync(`${d.movedTo}.data`) || existsSync(`${d.movedTo}.meta.json`)).toBe(true);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual(['renamed.json', 'staged.json', 'whole.json']);
    const read = async (Key: string) =>
      JSON.parse(await text((await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body)).version;
    expect([await read('renamed.json'), await read('staged.json'), await read('whole.json')]).toEqual([2, 1, 1]);
    // Nothing is left to recover the next time.
    expect(recoverObjectFiles(s3Dir, dataDirLayout(dir).damaged)).toEqual({ finished: [], dropped: [], damaged: [] });
    s3.destroy();
    sqs.destroy();
  });

  it("gives a kept queue this run's settings", async () => {
    dir = mkdtempSync(join(tmpdir(), 'emulator-state-'));
    let { config, s3, sqs } = await start({ VISIBILITY_TIMEOUT_SECONDS: '30', MAX_RECEIVE_COUNT: '3' });
    await ensureResources(config, s3, sqs);
    s3.destroy();
    sqs.destroy();
    ({ config, s3, sqs } = await start({ VISIBILITY_TIMEOUT_SECONDS: '45', MAX_RECEIVE_COUNT: '5' }));
    const queues = await ensureResources(config, s3, sqs);
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queues.request, AttributeNames: ['All'] }),
    );
    expect(Attributes['VisibilityTimeout']).toBe('45');
    expect(JSON.parse(Attributes['RedrivePolicy']!)).toMatchObject({ maxReceiveCount: 5 });
    s3.destroy();
    sqs.destroy();
  });
});

describe('file names of stored objects', () => {
  it('are the key itself while each segment fits in a file name', () => {
    for (const key of ['gallery.json', 'uploads/0c7e/test_000.jpg', `uploads/x/${'a'.repeat(230)}`]) {
      expect(fileKey(key)).toBe(key);
    }
  });

  it('are shortened, with a hash of the whole segment, when a segment does not fit', () => {
    const long = `uploads/x/${'顔'.repeat(150)}.jpg`;
    const stored = fileKey(long);
    expect(stored).toMatch(/^uploads\/x\/顔+~[0-9a-f]{16}$/);
    expect(Buffer.byteLength(stored.split('/').pop()!)).toBeLessThanOrEqual(230);
    expect(fileKey(`uploads/x/${'顔'.repeat(151)}.jpg`)).not.toBe(stored);
    // Percent-encoded characters count at their encoded length: 100 ':' take 300 bytes.
    expect(fileKey(':'.repeat(100))).toMatch(/~[0-9a-f]{16}$/);
  });
});
