/**
 * `npm run course-workload -- [--url URL] [--requests N] [--concurrency C]`: sends the course workload the way
 * the official generator does (multipart field "inputFile", a fresh TCP connection per request, no client
 * timeout), checks every answer against labels.csv, and prints the wall time. It first measures the
 * recogniser's own images/s in this process on the same images, so the two figures come from one run.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { loadEngine } from '../src/app-tier/recognition/engine.js';
import { loadConfig } from '../src/shared/config.js';

const program = new Command()
  .name('npm run course-workload --')
  .option('--url <url>', 'web tier URL', 'http://127.0.0.1:8000/')
  .option('--images <dir>', 'image folder', '../shared/datasets/cse546-face-images-1000/images')
  .option('--labels <csv>', 'labels CSV (Image,Results)', '../shared/datasets/cse546-face-images-1000/labels.csv')
  .option('--requests <n>', 'requests to send', '1000')
  .option('--concurrency <n>', 'requests in flight at once', '100')
  .option('--recognizer-images <n>', 'images for the in-process recogniser measurement (0 to skip)', '300');

interface Answer {
  status: number;
  body: string;
}

async function post(url: string, fileName: string, bytes: Buffer): Promise<Answer> {
  const form = new FormData();
  form.append('inputFile', new Blob([bytes]), fileName);
  const encoded = new Request(url, { method: 'POST', body: form });
  const body = Buffer.from(await encoded.arrayBuffer());
  return new Promise((resolve, reject) => {
    // agent: false opens a fresh TCP connection per request, as the course's Python client does.
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': encoded.headers.get('content-type')!, 'content-length': body.length },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const o = program.parse().opts<Record<string, string>>();
  const files = readdirSync(o['images']!)
    .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
    .sort();
  const labels = new Map(
    (parse(readFileSync(o['labels']!, 'utf8'), { columns: true }) as Record<string, string>[]).map((r) => [
      r['Image']!,
      r['Results']!,
    ]),
  );
  const total = Number(o['requests']);
  const images = Array.from({ length: total }, (_, i) => files[i % files.length]!);

  const recognizerImages = Number(o['recognizerImages']);
  if (recognizerImages > 0) {
    const config = loadConfig();
    const engine = await loadEngine(config.recognition);
    const bytes = images.slice(0, recognizerImages).map((f) => readFileSync(join(o['images']!, f)));
    await engine.analyze(bytes[0]!);
    const started = performance.now();
    for (const b of bytes) await engine.analyze(b);
    const seconds = (performance.now() - started) / 1000;
    await engine.close();
    console.log(
      `recogniser in-process (1 thread): ${(bytes.length / seconds).toFixed(1)} images/s, ` +
        `${((seconds * 1000) / bytes.length).toFixed(1)} ms/image over ${bytes.length} images`,
    );
  }

  let next = 0;
  let correct = 0;
  let wrong = 0;
  let failed = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const lane = async () => {
    while (next < images.length) {
      const file = images[next++]!;
      const stem = file.replace(/\.[^.]+$/, '');
      const t = performance.now();
      try {
        const answer = await post(o['url']!, file, readFileSync(join(o['images']!, file)));
        latencies.push(performance.now() - t);
        if (answer.status !== 200) failed++;
        else if (answer.body === `${stem}:${labels.get(stem)}`) correct++;
        else wrong++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Number(o['concurrency']) }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  console.log(
    `pipeline: ${total} requests at concurrency ${o['concurrency']} in ${seconds.toFixed(2)} s ` +
      `(${(total / seconds).toFixed(1)} requests/s); correct ${correct}, wrong ${wrong}, failed ${failed}; ` +
      `latency p50 ${pct(50).toFixed(0)} ms, p99 ${pct(99).toFixed(0)} ms`,
  );
  process.exitCode = wrong + failed > 0 ? 1 : 0;
}

await main();
