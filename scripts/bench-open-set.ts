/**
 * `npm run bench:open-set -- [--dataset DIR] [--people 1000,10000,100000] [--json]`: how the chance that a
 * stranger is taken for someone grows with the number of people enrolled, through the matcher the workers
 * run (int8 vectors; the index from GALLERY_INDEX_MIN_FACES on).
 *
 * LFW View 1 training images are embedded with the workers' engine (the subject face of each). Every identity
 * with two or more images is enrolled with its first image and probed with the others; identities with one
 * image are the strangers, never enrolled. LFW has too few identities for 10,000 or 100,000 people, so the
 * rest are synthetic distractors: embeddings drawn from a Gaussian with the mean and covariance of the real
 * ones, normalised, as face-recognition papers pad galleries (MegaFace uses real distractor photos; this has
 * none). The report shows how alike the synthetic ones are to strangers, next to real enrolled people, so
 * the reader can judge the stand-in.
 *
 * Per gallery size and threshold: the miss rate (FNIR: an enrolled person's probe not named as them) and the
 * stranger false-accept rate (FPIR: a stranger named as anyone), and how many of those accepts went to a
 * real person rather than a distractor.
 */
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { FaceMatcher, matchThresholdFor } from '../src/app-tier/recognition/face-matcher.js';
import { DEFAULT_MATCH_THRESHOLD } from '../src/shared/config/settings.js';
import { quantize } from '../src/shared/collections/vectors.js';
import { loadConfig } from '../src/shared/config/config.js';
import { EMBEDDING_DIMENSIONS } from '../src/shared/collections/names-and-faces.js';
import { cosine } from './lib/accuracy.js';
import { gaussianOf, lfwEmbeddings, type LabelledEmbedding as Labelled } from './lib/lfw-embeddings.js';
import { cpuInfo } from './lib/reference.js';

const THRESHOLDS = [0.35, 0.4, 0.45, 0.47, 0.49, 0.5, 0.55, 0.6];
const DISTRACTOR = 'distractor';

const program = new Command()
  .name('npm run bench:open-set --')
  .description('Stranger false accepts and enrolled-person misses as the number of enrolled people grows.')
  .option('--dataset <dir>', 'folder with images/ and labels.csv', '../shared/datasets/lfw-view1-train')
  .option('--people <list>', 'enrolled people, comma-separated', list, [1000, 10_000, 100_000])
  .option('--json', 'print one JSON object')
  .showHelpAfterError();

function list(value: string): number[] {
  const xs = value.split(',').map(Number);
  if (xs.some((n) => !Number.isInteger(n) || n < 1)) throw new InvalidArgumentError('must be whole numbers.');
  return xs;
}

async function main(): Promise<void> {
  const opts = program.parse().opts<{ dataset: string; people: number[]; json?: boolean }>();
  const config = loadConfig();
  const log = (...a: unknown[]) => (opts.json ? console.error(...a) : console.log(...a));
  const { embedded, images, noFace } = await lfwEmbeddings(config, opts.dataset, log);

  const byIdentity = new Map<string, Labelled[]>();
  for (const e of embedded) byIdentity.set(e.identity, [...(byIdentity.get(e.identity) ?? []), e]);
  const enrolled: Labelled[] = [];
  const probes: Labelled[] = [];
  const strangers: Labelled[] = [];
  for (const faces of byIdentity.values()) {
    if (faces.length === 1) strangers.push(faces[0]!);
    else {
      enrolled.push(faces[0]!);
      probes.push(...faces.slice(1));
    }
  }
  const sampler = gaussianOf(embedded.map((e) => e.embedding));
  const distractors = (n: number, seed: number) => Array.from({ length: n }, (_, i) => sampler(seed + i));

  // How alike is a synthetic distractor to a stranger, next to a real enrolled person?
  const realSims: number[] = [];
  const synthSims: number[] = [];
  const sample = distractors(enrolled.length, 1);
  for (const s of strangers.slice(0, 400)) {
    for (const e of enrolled) realSims.push(cosine(s.embedding, e.embedding));
    for (const d of sample) synthSims.push(cosine(s.embedding, d));
  }
  const stand = { real: stats(realSims), synthetic: stats(synthSims) };
  log(
    `stranger vs enrolled similarity: real people mean ${stand.real.mean.toFixed(3)} sd ${stand.real.sd.toFixed(3)} ` +
      `p99.9 ${stand.real.p999.toFixed(3)}; synthetic mean ${stand.synthetic.mean.toFixed(3)} sd ` +
      `${stand.synthetic.sd.toFixed(3)} p99.9 ${stand.synthetic.p999.toFixed(3)}`,
  );

  const sizes = [enrolled.length, ...opts.people.filter((n) => n > enrolled.length)];
  const results = [];
  for (const people of sizes) {
    const matcher = new FaceMatcher({
      indexMinFaces: config.worker.galleryIndexMinFaces,
      indexThreads: availableParallelism(),
    });
    const gallery: Labelled[] = [
      ...enrolled,
      ...distractors(people - enrolled.length, 1_000_000).map((embedding, i) => ({
        identity: `${DISTRACTOR}-${i}`,
        embedding,
      })),
    ];
    const t = performance.now();
    for (let i = 0; i < gallery.length; i += 16_384) {
      const part = gallery.slice(i, i + 16_384);
      const rowsOf = new Float32Array(part.length * EMBEDDING_DIMENSIONS);
      part.forEach((g, j) => rowsOf.set(g.embedding, j * EMBEDDING_DIMENSIONS));
      await matcher.add(
        part.map((g, j) => ({ id: String(i + j).padStart(16, '0'), name: g.identity })),
        quantize(rowsOf),
      );
    }
    const buildMs = performance.now() - t;
    const probeTop = probes.map((p) => matcher.search(p.embedding, 1)[0]!);
    const strangerTop = strangers.map((p) => matcher.search(p.embedding, 1)[0]!);
    const auto = matchThresholdFor({ threshold: DEFAULT_MATCH_THRESHOLD, grows: true }, people)!;
    const thresholds = [...new Set([...THRESHOLDS, auto])].sort((a, b) => a - b);
    const rates = thresholds.map((threshold) => {
      const missed = probeTop.filter((c, i) => c.name !== probes[i]!.identity || c.similarity < threshold).length;
      const accepted = strangerTop.filter((c) => c.similarity >= threshold);
      return {
        threshold,
        auto: threshold === auto,
        fnir: missed / probes.length,
        fpir: accepted.length / strangers.length,
        fpirToRealPeople: accepted.filter((c) => !c.name.startsWith(DISTRACTOR)).length / strangers.length,
      };
    });
    // The same real-only gallery in float32 with an exact scan: what int8 changes.
    const exact =
      people === enrolled.length
        ? THRESHOLDS.map((threshold) => {
            const top = (e: Float32Array) => {
              let best = { identity: '', similarity: -Infinity };
              for (const g of enrolled) {
                const s = cosine(g.embedding, e);
                if (s > best.similarity) best = { identity: g.identity, similarity: s };
              }
              return best;
            };
            const missed = probes.filter((p) => {
              const b = top(p.embedding);
              return b.identity !== p.identity || b.similarity < threshold;
            }).length;
            const accepted = strangers.filter((s) => top(s.embedding).similarity >= threshold).length;
            return { threshold, fnir: missed / probes.length, fpir: accepted / strangers.length };
          })
        : undefined;
    results.push({
      people,
      real: enrolled.length,
      synthetic: people - enrolled.length,
      indexed: matcher.indexed,
      buildSeconds: Math.round(buildMs / 100) / 10,
      rates,
      ...(exact ? { float32Exact: exact } : {}),
    });
    log(
      `${people} people (${enrolled.length} real): built in ${(buildMs / 1000).toFixed(1)} s${matcher.indexed ? ', indexed' : ''}`,
    );
    for (const r of rates) {
      log(
        `  threshold ${r.threshold.toFixed(3)}${r.auto ? '*' : ' '} ` +
          `miss ${pct(r.fnir)}  stranger accepted ${pct(r.fpir)} (to a real person ${pct(r.fpirToRealPeople)})`,
      );
    }
    if (exact) {
      log('  the same gallery in float32, exact:');
      for (const r of exact)
        log(`  threshold ${r.threshold.toFixed(2)}  miss ${pct(r.fnir)}  stranger accepted ${pct(r.fpir)}`);
    }
  }
  const report = {
    date: new Date().toISOString().slice(0, 10),
    machine: { cpu: cpuInfo().model, cores: availableParallelism(), node: process.version },
    dataset: opts.dataset,
    images,
    noFace,
    enrolled: enrolled.length,
    probes: probes.length,
    strangers: strangers.length,
    autoThreshold: 'MATCH_THRESHOLD=auto: * in the tables',
    strangerSimilarity: stand,
    sizes: results,
  };
  if (opts.json) console.log(JSON.stringify(report, null, 2));
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`.padEnd(7);

function stats(xs: number[]) {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
  const sorted = [...xs].sort((a, b) => a - b);
  return { mean, sd, p999: sorted[Math.floor(0.999 * (sorted.length - 1))]! };
}

await main();
