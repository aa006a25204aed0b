/**
 * A worker's view of one collection, in a process of its own so that its memory is its own: `npm run
 * bench:gallery` starts it, and it loads the collection the way a worker does (CollectionCache: every segment
 * read from S3, then the index built), then answers commands on standard input, one JSON line each on standard
 * output:
 *   search  — every query of the queries file through the worker's matcher: per-query ms and top-1 person;
 *   exact N — the exact scan (the matcher below GALLERY_INDEX_MIN_FACES) on the first N queries, and the exact
 *             top-1 person of every query (usearch's brute force over the same int8 vectors, the reference);
 *   refresh — one refresh round, as the worker's poll loop runs it: ms, bytes read, version;
 *   quit    — once the index it built (if it built one) is stored beside the collection.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { exactSearch, MetricKind } from 'usearch';
import { CollectionCache } from '../../src/app-tier/tasks/collection-cache.js';
import { FaceMatcher } from '../../src/app-tier/recognition/face-matcher.js';
import { createS3Client } from '../../src/shared/aws/clients.js';
import { IndexSnapshots } from '../../src/shared/collections/index-snapshots.js';
import { mapLimit, CollectionRepository } from '../../src/shared/collections/repository.js';
import { concatVectors } from '../../src/shared/collections/vectors.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { EMBEDDING_DIMENSIONS } from '../../src/shared/collections/names-and-faces.js';
import { createLogger } from '../../src/shared/logger.js';

const [endpoint, bucket, collection, sha, indexMinFaces, queriesFile] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const config = loadConfig({ AWS_ENDPOINT_URL: endpoint, LOG_LEVEL: 'silent' });
const s3 = createS3Client(config);
const repository = new CollectionRepository(s3, bucket, sha);
const threads = availableParallelism();
const cache = new CollectionCache(repository, createLogger(config, { tier: 'probe' }), {
  maxFaces: 100_000_000,
  indexMinFaces: Number(indexMinFaces),
  indexThreads: threads,
  // As a worker does: a stored index is read instead of built, and one this process built is stored.
  snapshots: new IndexSnapshots(s3, bucket),
});
const raw = readFileSync(queriesFile);
const queries = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const count = queries.length / EMBEDDING_DIMENSIONS;
const query = (i: number) => queries.subarray(i * EMBEDDING_DIMENSIONS, (i + 1) * EMBEDDING_DIMENSIONS);
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const rssMiB = () => Math.round(process.memoryUsage().rss / 2 ** 20);

const started = performance.now();
const matcher = (await cache.get(collection))!;
say({
  event: 'loaded',
  ms: performance.now() - started,
  rssMiB: rssMiB(),
  faces: matcher.size,
  indexed: matcher.indexed,
  bytesRead: cache.summary()[0]!.bytesRead,
  fromStoredIndex: cache.summary()[0]!.fromStoredIndex,
});

for await (const line of createInterface({ input: process.stdin })) {
  const [command, arg] = line.trim().split(' ');
  if (command === 'search') {
    const ms: number[] = [];
    const top: string[] = [];
    const similarity: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      const found = (await cache.get(collection))!.search(query(i), 3);
      ms.push(performance.now() - t);
      top.push(found[0]?.name ?? '');
      similarity.push(found[0]?.similarity ?? -1);
    }
    say({ event: 'searched', ms, top, similarity, rssMiB: rssMiB() });
  } else if (command === 'exact') {
    // The same int8 vectors, read again from the segments (the indexed matcher keeps them only in its index).
    // (The bench removes nothing before this, so every face of every segment counts.)
    const { manifest } = await repository.read(collection);
    const faceEntries = manifest.entries.filter((e) => e.kind === 'faces');
    const parts = await mapLimit(faceEntries, 4, async (e) => ({
      meta: await repository.segmentMeta(collection, e.id),
      vectors: await repository.segmentVectors(collection, e.id),
    }));
    const all = concatVectors(parts.map((p) => p.vectors));
    const names = parts.flatMap((p) => (p.meta.kind === 'faces' ? p.meta.faces.map((f) => f.name) : []));
    // Reference: the nearest face by brute force, for every query.
    const t = performance.now();
    const quantized = new Int8Array(queries.length);
    for (let i = 0; i < count; i++) {
      const q = query(i);
      let max = 0;
      for (const x of q) max = Math.max(max, Math.abs(x));
      for (let d = 0; d < EMBEDDING_DIMENSIONS; d++)
        quantized[i * EMBEDDING_DIMENSIONS + d] = Math.round((q[d]! / max) * 127);
    }
    // 50 queries at a time: usearch's brute force holds a distance for every face and query it is given (some
    // 20 GiB for 1,200 queries against a million faces).
    const found = { keys: new BigUint64Array(count), distances: new Float32Array(count) };
    for (let from = 0; from < count; from += 50) {
      const n = Math.min(50, count - from);
      const part = exactSearch(
        all.codes,
        // A copy: the binding reads a typed array from the start of its buffer.
        quantized.slice(from * EMBEDDING_DIMENSIONS, (from + n) * EMBEDDING_DIMENSIONS),
        EMBEDDING_DIMENSIONS,
        1,
        MetricKind.Cos,
        threads,
      ) as { keys: BigUint64Array; distances: Float32Array };
      found.keys.set(part.keys.subarray(0, n), from);
      found.distances.set(part.distances.subarray(0, n), from);
    }
    const bruteForceMs = performance.now() - t;
    const top = [...found.keys].map((k) => names[Number(k)] ?? '');
    const similarity = [...found.distances].map((d) => 1 - d);
    // The worker's own exact scan, on the first N queries.
    const exact = new FaceMatcher({ indexMinFaces: Number.MAX_SAFE_INTEGER });
    for (const p of parts) if (p.meta.kind === 'faces') await exact.add(p.meta.faces, p.vectors);
    const ms: number[] = [];
    for (let i = 0; i < Math.min(Number(arg), count); i++) {
      const s = performance.now();
      exact.search(query(i), 3);
      ms.push(performance.now() - s);
    }
    say({ event: 'exact', ms, top, similarity, bruteForceMs });
  } else if (command === 'refresh') {
    const before = cache.summary()[0]!.bytesRead;
    const t = performance.now();
    await cache.refresh();
    const after = cache.summary()[0]!;
    say({ event: 'refreshed', ms: performance.now() - t, bytesRead: after.bytesRead - before, version: after.version });
  } else if (command === 'quit') {
    break;
  }
}
// A worker that built the index stores it in the background; the bench's restart wants it stored.
const built = cache.summary()[0]!;
if (built.indexed) {
  const snapshots = new IndexSnapshots(s3, bucket);
  const deadline = Date.now() + 30 * 60_000;
  while (!(await snapshots.latest(collection)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
  }
}
s3.destroy();
process.exit(0);
