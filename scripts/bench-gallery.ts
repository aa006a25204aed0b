/**
 * `npm run bench:gallery -- [--sizes 1000,10000,100000,1000000] [--json]`: collections at growing sizes, on
 * this machine. For each size, synthetic people (two faces each, around a centre of their own, as alike as
 * two LFW photos of one person) are stored as segments in the emulator, then:
 * - a worker (a process of its own, scripts/lib/gallery-worker-probe.ts) loads the collection: its time, the
 *   bytes it read and its resident memory;
 * - it matches probes (another photo of an enrolled person) and strangers: p50/p99 per face, through the
 *   index from GALLERY_INDEX_MIN_FACES on; the exact scan side by side, and recall@1 of the worker's answer
 *   against brute force over the same vectors;
 * - enrollments through the enrollment service (rules, segment, conditional manifest; the emulator included,
 *   the worker's embedding not), each followed by the worker's refresh: how long, and how many bytes;
 * - a compaction of those small segments, and the worker's refresh after it;
 * - a second worker started after the first, which reads the index the first one stored instead of building it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { EnrollmentService } from '../src/enrollment/service.js';
import { createS3Client } from '../src/shared/aws/clients.js';
import { CollectionRepository, faceToAdd, MAX_SEGMENT_FACES } from '../src/shared/collections/repository.js';
import { loadConfig } from '../src/shared/config/config.js';
import { startEmulator } from '../src/local/emulator.js';
import { EMBEDDING_DIMENSIONS } from '../src/shared/collections/names-and-faces.js';
import { gaussianOf, lfwEmbeddings } from './lib/lfw-embeddings.js';
import { seededGaussian } from './lib/random.js';
import { cpuInfo } from './lib/reference.js';
import { positiveInt } from './lib/options.js';

const program = new Command()
  .name('npm run bench:gallery --')
  .description('Collections of growing size: load, match, recall, enroll, refresh, compact, memory.')
  .option('--sizes <list>', 'enrolled faces, comma-separated', sizes, [1000, 10_000, 100_000, 1_000_000])
  .option('--queries <n>', 'probes of enrolled people per size', positiveInt, 1000)
  .option('--strangers <n>', 'probes of nobody enrolled per size', positiveInt, 200)
  .option('--exact-queries <n>', 'probes timed through the exact scan (slow at a million)', positiveInt, 100)
  .option('--enrollments <n>', 'enrollments timed per size, each followed by a refresh', positiveInt, 20)
  .addOption(
    new Option('--shape <shape>', 'people: random directions (the hardest for an index), or shaped like LFW embeddings')
      .choices(['uniform', 'lfw'])
      .default('uniform'),
  )
  .option('--dataset <dir>', 'LFW, for --shape lfw', '../shared/datasets/lfw-view1-train')
  .option('--json', 'print one JSON object')
  .showHelpAfterError();

function sizes(value: string): number[] {
  const list = value.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 2))
    throw new InvalidArgumentError('must be whole numbers of 2 or more.');
  return list;
}

/** How far a face lies from its person's centre: two faces of one person then have a cosine of about 0.65. */
const FACE_NOISE = 0.75;
const SHA = 'e'.repeat(64);
const COLLECTION = 'bench';

/** Deterministic Gaussian noise for (seed, stream): a person's centre, or one of their faces. */
const gaussian = (seed: number, out: Float32Array) => seededGaussian(seed, out) as Float32Array;

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

/** A person's centre: a random direction (`uniform`), or drawn from the shape of real LFW embeddings. */
type Centres = (person: number) => Float32Array;
const uniformCentres: Centres = (person) => unit(gaussian(person * 16 + 1, new Float32Array(EMBEDDING_DIMENSIONS)));

/** A face around `centre` of `person` (streams 1, 2: enrolled faces; 3 and on: probes). */
function faceAround(centre: Float32Array, person: number, stream: number): Float32Array {
  const noise = unit(gaussian(person * 16 + 1 + stream, new Float32Array(EMBEDDING_DIMENSIONS)));
  const face = Float32Array.from(centre);
  for (let i = 0; i < face.length; i++) face[i]! += FACE_NOISE * noise[i]!;
  return unit(face);
}

const personName = (p: number) => `P${String(p).padStart(7, '0')}`;
const faceId = (p: number, j: number) => (p * 16 + j).toString(16).padStart(16, '0');

const percentile = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

interface Probe {
  send(command: string): Promise<Record<string, unknown>>;
  first: Promise<Record<string, unknown>>;
  quit(): Promise<void>;
}

function startProbe(args: string[]): Probe {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/lib/gallery-worker-probe.ts', ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the worker probe stopped');
    return JSON.parse(value as string) as Record<string, unknown>;
  };
  return {
    first: next(),
    async send(command) {
      child.stdin.write(`${command}\n`);
      return next();
    },
    async quit() {
      child.stdin.write('quit\n');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function main(): Promise<void> {
  const opts = program.parse().opts<{
    sizes: number[];
    queries: number;
    strangers: number;
    exactQueries: number;
    enrollments: number;
    shape: 'uniform' | 'lfw';
    dataset: string;
    json?: boolean;
  }>();
  const config = loadConfig();
  const indexMinFaces = config.worker.galleryIndexMinFaces;
  const log = (...a: unknown[]) => (opts.json ? console.error(...a) : console.log(...a));
  const cpu = cpuInfo();
  log(`bench:gallery ${new Date().toISOString().slice(0, 10)} — ${cpu.model}, ${availableParallelism()} cores`);
  log(
    `index from ${indexMinFaces} faces (GALLERY_INDEX_MIN_FACES); refresh every ${config.worker.galleryRefreshSeconds} s`,
  );
  let centreOf: Centres = uniformCentres;
  if (opts.shape === 'lfw') {
    const { embedded } = await lfwEmbeddings(config, opts.dataset, log);
    const sample = gaussianOf(embedded.map((e) => e.embedding));
    centreOf = (person) => sample(person * 16 + 1);
  }
  log(`people: ${opts.shape === 'lfw' ? 'shaped like LFW embeddings' : 'random directions'}, two faces each`);
  const dir = await mkdtemp(join(tmpdir(), 'facefleet-bench-gallery-'));
  const emulator = await startEmulator({ port: 0, region: 'us-east-1', dataDir: join(dir, 'emulator') });
  const s3 = createS3Client(loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint }));
  const results = [];
  try {
    for (const size of opts.sizes) {
      const bucket = `bench-gallery-${size}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const repository = new CollectionRepository(s3, bucket, SHA);
      const people = Math.floor(size / 2);

      // The collection, as segments of the largest size (what compaction leaves behind).
      let t = performance.now();
      const perSegment = MAX_SEGMENT_FACES / 2;
      for (let first = 0; first < people; first += perSegment) {
        const add: ReturnType<typeof faceToAdd>[] = [];
        for (let p = first; p < Math.min(people, first + perSegment); p++) {
          const centre = centreOf(p);
          for (const j of [1, 2]) {
            add.push(faceToAdd(personName(p), { id: faceId(p, j), embedding: faceAround(centre, p, j) }));
          }
        }
        await repository.change(COLLECTION, () => ({ add, result: {} }), { create: true });
      }
      const storeMs = performance.now() - t;
      const described = await repository.describe(COLLECTION);
      log(`${size} faces: stored in ${(storeMs / 1000).toFixed(1)} s, ${(described.bytes / 2 ** 20).toFixed(1)} MiB`);

      // Probes: another photo of an enrolled person; strangers: people nobody enrolled.
      const truth: string[] = [];
      const queries = new Float32Array((opts.queries + opts.strangers) * EMBEDDING_DIMENSIONS);
      for (let q = 0; q < opts.queries; q++) {
        const p = Math.floor(((q * 2654435761) >>> 0) % people);
        queries.set(faceAround(centreOf(p), p, 3), q * EMBEDDING_DIMENSIONS);
        truth.push(personName(p));
      }
      for (let q = 0; q < opts.strangers; q++) {
        const stranger = people + 10 + q;
        queries.set(faceAround(centreOf(stranger), stranger, 3), (opts.queries + q) * EMBEDDING_DIMENSIONS);
      }
      const queriesFile = join(dir, `queries-${size}.f32`);
      await writeFile(queriesFile, new Uint8Array(queries.buffer));

      const probe = startProbe([emulator.endpoint, bucket, COLLECTION, SHA, String(indexMinFaces), queriesFile]);
      const loaded = await probe.first;
      log(`  worker loaded it in ${((loaded['ms'] as number) / 1000).toFixed(1)} s, RSS ${loaded['rssMiB']} MiB`);
      const searched = await probe.send('search');
      const exact = await probe.send(`exact ${opts.exactQueries}`);
      const top = searched['top'] as string[];
      const reference = exact['top'] as string[];
      const genuine = [...Array(opts.queries).keys()];
      const recallAt1 = genuine.filter((i) => top[i] === reference[i]).length / genuine.length;
      const correct = genuine.filter((i) => top[i] === truth[i]).length / genuine.length;
      const simOf = (r: Record<string, unknown>) => r['similarity'] as number[];
      const threshold = config.matching.threshold ?? 0.45;
      const strangersAccepted =
        simOf(searched)
          .slice(opts.queries)
          .filter((s) => s >= threshold).length / opts.strangers;

      // Enrollments through the enrollment service, each followed by the worker's refresh.
      const service = new EnrollmentService({
        collections: repository,
        deletePhotos: async () => undefined,
        logger: pino({ level: 'silent' }),
      });
      const enrollMs: number[] = [];
      const refreshMs: number[] = [];
      const refreshBytes: number[] = [];
      for (let e = 0; e < opts.enrollments; e++) {
        const p = people + 100_000 + e;
        const bytes = randomBytes(64);
        t = performance.now();
        await service.enroll(COLLECTION, personName(p), {
          requestId: `bench-${e}`,
          sourceKeys: [],
          embed: async () => [
            {
              file: `${e}.jpg`,
              bytes,
              embedding: {
                kind: 'faces',
                facesFound: 1,
                faces: [{ embedding: faceAround(centreOf(p), p, 1), box: [0, 0, 100, 100] }],
              },
            },
          ],
        });
        enrollMs.push(performance.now() - t);
        const refreshed = await probe.send('refresh');
        refreshMs.push(refreshed['ms'] as number);
        refreshBytes.push(refreshed['bytesRead'] as number);
      }
      t = performance.now();
      const compaction = await repository.compact(COLLECTION);
      const compactionMs = performance.now() - t;
      const afterCompaction = await probe.send('refresh');
      await probe.quit();
      // A worker started now: the index the first one built is stored beside the collection.
      const restart = startProbe([emulator.endpoint, bucket, COLLECTION, SHA, String(indexMinFaces), queriesFile]);
      const again = await restart.first;
      await restart.quit();
      log(
        `  a worker started after: ${((again['ms'] as number) / 1000).toFixed(1)} s, RSS ${again['rssMiB']} MiB` +
          (again['fromStoredIndex'] ? ' (the stored index read, not built)' : ''),
      );

      const entry = {
        faces: size,
        people,
        collectionBytes: described.bytes,
        segments: described.segments,
        storeSeconds: round(storeMs / 1000, 1),
        indexed: loaded['indexed'] as boolean,
        workerLoadSeconds: round((loaded['ms'] as number) / 1000, 2),
        workerRssMiB: loaded['rssMiB'] as number,
        restartSeconds: round((again['ms'] as number) / 1000, 2),
        restartRssMiB: again['rssMiB'] as number,
        restartFromStoredIndex: again['fromStoredIndex'] as boolean,
        loadBytes: loaded['bytesRead'] as number,
        matchP50Ms: round(percentile(searched['ms'] as number[], 50), 3),
        matchP99Ms: round(percentile(searched['ms'] as number[], 99), 3),
        exactMatchP50Ms: round(percentile(exact['ms'] as number[], 50), 3),
        exactMatchP99Ms: round(percentile(exact['ms'] as number[], 99), 3),
        exactQueries: (exact['ms'] as number[]).length,
        recallAt1: round(recallAt1, 4),
        identifiedCorrectly: round(correct, 4),
        strangersAcceptedAtThreshold: round(strangersAccepted, 4),
        enrollP50Ms: round(percentile(enrollMs, 50), 1),
        enrollP99Ms: round(percentile(enrollMs, 99), 1),
        refreshMs: round(Math.max(...refreshMs), 1),
        refreshP50Ms: round(percentile(refreshMs, 50), 1),
        refreshBytes: Math.max(...refreshBytes),
        refreshShareOfCollection: round(Math.max(...refreshBytes) / described.bytes, 6),
        compactionMs: round(compactionMs, 1),
        compactedSegments: compaction?.merged ?? 0,
        refreshBytesAfterCompaction: afterCompaction['bytesRead'] as number,
      };
      results.push(entry);
      log(
        `  match p50 ${entry.matchP50Ms} ms, p99 ${entry.matchP99Ms} ms ${entry.indexed ? '(index)' : '(exact)'}; ` +
          `exact scan p99 ${entry.exactMatchP99Ms} ms over ${entry.exactQueries}; recall@1 ${entry.recallAt1}`,
      );
      log(
        `  enroll p50 ${entry.enrollP50Ms} ms, p99 ${entry.enrollP99Ms} ms; refresh ≤ ${entry.refreshMs} ms reading ` +
          `${entry.refreshBytes} bytes (${(entry.refreshShareOfCollection * 100).toFixed(4)} % of the collection); ` +
          `compaction of ${entry.compactedSegments} segments ${entry.compactionMs} ms, then ${entry.refreshBytesAfterCompaction} bytes read`,
      );
    }
  } finally {
    s3.destroy();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const report = {
    date: new Date().toISOString().slice(0, 10),
    machine: { cpu: cpu.model, cores: availableParallelism(), node: process.version },
    shape: opts.shape,
    indexMinFaces,
    galleryRefreshSeconds: config.worker.galleryRefreshSeconds,
    sizes: results,
  };
  if (opts.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(
    '\nfaces      load s  restart s  RSS MiB  match p99  exact p99  recall@1  enroll p99  refresh ms  refresh bytes',
  );
  for (const r of results) {
    console.log(
      `${String(r.faces).padEnd(10)} ${String(r.workerLoadSeconds).padEnd(7)} ${String(r.restartSeconds).padEnd(10)} ` +
        `${String(r.workerRssMiB).padEnd(8)} ` +
        `${String(r.matchP99Ms).padEnd(10)} ${String(r.exactMatchP99Ms).padEnd(10)} ${String(r.recallAt1).padEnd(9)} ` +
        `${String(r.enrollP99Ms).padEnd(11)} ${String(r.refreshMs).padEnd(11)} ${r.refreshBytes}`,
    );
  }
}

await main();
