/**
 * `npm run bench:accuracy -- [--dataset DIR] [--pairs N] [--json]`: how well the engine the workers run
 * recognises faces, on the LFW View 1 training pairs.
 *
 * Every image is analysed once, every face in it embedded. Then, on the face that the subject rule picks:
 * - verification: accuracy with the threshold chosen by 10-fold cross-validation, ROC AUC, and the
 *   true-accept rate at a 0.1 % false-accept rate, on the pairs;
 * - identification: one gallery image per identity with two or more, the rest as probes, rank-1;
 * - the "Unknown" threshold: the false-accept rate the configured MATCH_THRESHOLD gives, on the pairs and on
 *   every pair of images of two different people, and the threshold a 0.1 % rate would need;
 * - the three subject rules side by side, and how often each picks the face that matches the person's other
 *   photos on images with more than one face.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import {
  loadEngine,
  PROMINENCE_RULES,
  rankByProminence,
  type Face,
  type ProminenceRule,
} from '../src/app-tier/recognition/engine.js';
import { loadConfig } from '../src/shared/config/config.js';
import {
  bestThreshold,
  cosine,
  crossValidatedAccuracy,
  falseAcceptRate,
  openSetRates,
  rankOneRate,
  rocAuc,
  tarAtFar,
  thresholdAtFar,
  type Probe,
  type ScoredPair,
} from './lib/accuracy.js';
import { positiveInt } from './lib/options.js';

const TARGET_FAR = 0.001;

const program = new Command()
  .name('npm run bench:accuracy --')
  .description('Measure verification and identification accuracy on the LFW View 1 training pairs.')
  .option('--dataset <dir>', 'folder with images/, labels.csv and pairs.csv', '../shared/datasets/lfw-view1-train')
  .option('--pairs <n>', 'use only the first n same-person and n different-person pairs (a quick run)', positiveInt)
  .option('--json', 'print the figures as JSON')
  .showHelpAfterError();

interface Analysed {
  readonly file: string;
  readonly identity: string;
  readonly width: number;
  readonly height: number;
  readonly faces: readonly Face[];
}

async function main(): Promise<void> {
  const opts = program.parse().opts<{ dataset: string; pairs?: number; json?: boolean }>();
  const config = loadConfig();
  const { identities, pairs } = await readDataset(opts.dataset, opts.pairs);
  const files = [...identities.keys()].sort();

  const engine = await loadEngine(config.recognition);
  await engine.warmUp();
  const progress = progressBar(files.length, !opts.json);
  const analysed: Analysed[] = [];
  const started = performance.now();
  for (const file of files) {
    const result = await engine.analyze(await readFile(join(opts.dataset, 'images', file)), Infinity);
    analysed.push({ file, identity: identities.get(file)!, ...result });
    progress.tick();
  }
  const seconds = (performance.now() - started) / 1000;
  progress.stop();
  await engine.close();

  const byIdentity = new Map<string, Analysed[]>();
  for (const a of analysed) byIdentity.set(a.identity, [...(byIdentity.get(a.identity) ?? []), a]);
  const rules = Object.keys(PROMINENCE_RULES) as ProminenceRule[];
  const perRule = Object.fromEntries(rules.map((rule) => [rule, evaluate(analysed, byIdentity, pairs, rule)]));
  const subject = subjectAgreement(analysed, byIdentity);
  const main = perRule['centred']!;
  const threshold = config.matching.threshold;
  const facesEmbedded = analysed.reduce((s, a) => s + a.faces.length, 0);

  const report = {
    date: new Date().toISOString().slice(0, 10),
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    dataset: opts.dataset,
    images: analysed.length,
    pairs: pairs.length,
    imagesPerSecond: analysed.length / seconds,
    facesEmbedded,
    noFaceRate: analysed.filter((a) => a.faces.length === 0).length / analysed.length,
    rule: 'centred' as const,
    verification: main.verification,
    identification: main.identification,
    unknownThreshold: unknownThresholdReport(analysed, main, threshold),
    rules: Object.fromEntries(
      rules.map((r) => [
        r,
        {
          accuracy: perRule[r]!.verification.accuracy,
          rankOne: perRule[r]!.identification.rankOne,
          picksSubject: subject.rates[r],
        },
      ]),
    ),
    multiFaceImages: subject.images,
  };
  if (opts.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)}%`;
  const v = report.verification;
  const u = report.unknownThreshold;
  console.log(
    `LFW accuracy, ${report.date} — ${report.machine.cpu}, ${report.machine.cores} cores, ${process.version}`,
  );
  console.log(`  ${report.images} images, ${report.pairs} pairs, ${opts.dataset}`);
  console.log(
    `  speed: ${report.imagesPerSecond.toFixed(1)} images/s in one process (${facesEmbedded} faces embedded)`,
  );
  console.log(`  no face found: ${pct(report.noFaceRate)} of images`);
  console.log('verification (subject rule: centred)');
  console.log(
    `  accuracy ${pct(v.accuracy)} ± ${pct(v.accuracyStd)} (10-fold cross-validated threshold, ` +
      `mean ${v.threshold.toFixed(3)})`,
  );
  console.log(`  ROC AUC ${v.auc.toFixed(5)}`);
  console.log(
    `  TAR ${pct(v.tarAtFar.tar)} at FAR ${pct(v.tarAtFar.far, 2)} (threshold ${v.tarAtFar.threshold.toFixed(3)})`,
  );
  console.log('identification (one gallery image per identity with two or more, the rest as probes)');
  console.log(
    `  rank-1 ${pct(report.identification.rankOne)} over ${report.identification.probes} probes, ` +
      `${report.identification.gallery} identities`,
  );
  console.log(`"Unknown" threshold (MATCH_THRESHOLD=${u.configured ?? 'off'}):`);
  console.log(
    `  FAR/TAR on the ${pairs.length} pairs and on all ${u.impostorPairs.toLocaleString('en')} different-person / ` +
      `${u.genuinePairs.toLocaleString('en')} same-person image pairs;`,
  );
  console.log(
    `  open set: ${u.gallery} enrolled identities, ${u.knownProbes} probes of them (DIR: identified), ` +
      `${u.strangers} strangers (FPIR: taken for someone)`,
  );
  console.log('  threshold   pairs FAR   pairs TAR   all FAR    all TAR    DIR       FPIR');
  for (const r of u.table) {
    console.log(
      `  ${r.threshold.toFixed(3).padEnd(10)}${r.configured ? '*' : ' '} ${pct(r.pairsFar).padEnd(11)} ` +
        `${pct(r.pairsTar).padEnd(11)} ${pct(r.allPairsFar, 3).padEnd(10)} ${pct(r.allPairsTar).padEnd(10)} ` +
        `${pct(r.dir).padEnd(9)} ${pct(r.fpir)}`,
    );
  }
  console.log(
    `  a FAR of ${pct(TARGET_FAR, 1)} over all different-person pairs needs ${u.forTargetFar.threshold.toFixed(3)} ` +
      `(TAR ${pct(u.forTargetFar.tar)}); * marks the configured threshold`,
  );
  console.log(`subject rules (${report.multiFaceImages} images with more than one face and a known subject)`);
  for (const r of rules) {
    const x = report.rules[r]!;
    console.log(
      `  ${r.padEnd(8)} verification ${pct(x.accuracy)}  rank-1 ${pct(x.rankOne)}  ` +
        `picks the subject ${pct(x.picksSubject, 1)}`,
    );
  }
}

async function readDataset(dir: string, pairLimit: number | undefined) {
  const read = async (name: string) => {
    try {
      return parse(await readFile(join(dir, name), 'utf8'), { columns: true, skip_empty_lines: true, trim: true });
    } catch (err) {
      fail(`cannot read ${join(dir, name)}: ${(err as Error).message}`);
    }
  };
  const labelRows = (await read('labels.csv')) as { image: string; identity: string }[];
  let pairRows = (await read('pairs.csv')) as { image_a: string; image_b: string; same: string }[];
  if (pairLimit !== undefined) {
    pairRows = [
      ...pairRows.filter((p) => p.same === '1').slice(0, pairLimit),
      ...pairRows.filter((p) => p.same !== '1').slice(0, pairLimit),
    ];
  }
  const allIdentities = new Map(labelRows.map((r) => [r.image, r.identity]));
  const pairs = pairRows.map((p) => ({ a: p.image_a, b: p.image_b, same: p.same === '1' }));
  // A quick run analyses only the images of its pairs; a full run every labelled image.
  const wanted = pairLimit === undefined ? [...allIdentities.keys()] : pairs.flatMap((p) => [p.a, p.b]);
  const identities = new Map<string, string>();
  for (const file of wanted) {
    const identity = allIdentities.get(file);
    if (identity === undefined) fail(`${file} is in pairs.csv but not in labels.csv`);
    identities.set(file, identity);
  }
  return { identities, pairs };
}

/** Analysed images grouped by identity, each group in file-name order. */
type ByIdentity = ReadonlyMap<string, readonly Analysed[]>;

function evaluate(
  analysed: readonly Analysed[],
  byIdentity: ByIdentity,
  pairs: readonly { a: string; b: string; same: boolean }[],
  rule: ProminenceRule,
) {
  const subjects = new Map(analysed.map((a) => [a.file, rankByProminence(a.faces, a, rule)[0]?.embedding]));
  const pairScores: ScoredPair[] = pairs.map(({ a, b, same }) => {
    const x = subjects.get(a);
    const y = subjects.get(b);
    return { similarity: x && y ? cosine(x, y) : -Infinity, same };
  });
  const cv = crossValidatedAccuracy(pairScores);
  const genuine = pairScores.filter((p) => p.same).map((p) => p.similarity);
  const impostor = pairScores.filter((p) => !p.same).map((p) => p.similarity);

  // Identification: the first image (by name) of every identity with two or more is its gallery entry.
  const gallery: Probe[] = [];
  const probes: Probe[] = [];
  const strangers: Probe[] = [];
  let unusable = 0;
  for (const [identity, images] of byIdentity) {
    if (images.length < 2) {
      const embedding = subjects.get(images[0]!.file);
      if (embedding) strangers.push({ identity, embedding });
      continue;
    }
    const [first, ...rest] = images;
    const enrolled = subjects.get(first!.file);
    if (enrolled) gallery.push({ identity, embedding: enrolled });
    for (const probe of rest) {
      const embedding = subjects.get(probe.file);
      if (embedding) probes.push({ identity, embedding });
      else unusable++;
    }
  }
  // A probe without a face is a miss.
  const rankOne = (rankOneRate(gallery, probes) * probes.length) / (probes.length + unusable);
  return {
    subjects,
    pairScores,
    verification: {
      accuracy: cv.mean,
      accuracyStd: cv.std,
      threshold: cv.thresholds.reduce((s, t) => s + t, 0) / cv.thresholds.length,
      bestThreshold: bestThreshold(pairScores).threshold,
      auc: rocAuc(genuine, impostor),
      tarAtFar: tarAtFar(genuine, impostor, TARGET_FAR),
    },
    identification: { rankOne, probes: probes.length + unusable, gallery: gallery.length },
    openSet: { gallery, probes, strangers },
  };
}

/** Thresholds the report tabulates, besides the configured one. */
const THRESHOLDS = [0.25, 0.3, 0.35, 0.4, 0.45, 0.5];

/**
 * Candidate "Unknown" thresholds, each against three sets: the 1,100 different-person pairs (few: 0.1 % is
 * one pair); every pair of images of two different people (millions, so small rates are solid); and open-set
 * identification as the service answers, with the identities that have a single image as strangers.
 */
function unknownThresholdReport(
  analysed: readonly Analysed[],
  evaluation: ReturnType<typeof evaluate>,
  configured: number | undefined,
) {
  const subjects = analysed.flatMap((a) => {
    const embedding = evaluation.subjects.get(a.file);
    return embedding ? [{ identity: a.identity, embedding }] : [];
  });
  const genuine: number[] = [];
  const impostor = new Float32Array((subjects.length * (subjects.length - 1)) / 2);
  let n = 0;
  for (let i = 0; i < subjects.length; i++) {
    for (let j = i + 1; j < subjects.length; j++) {
      const s = cosine(subjects[i]!.embedding, subjects[j]!.embedding);
      if (subjects[i]!.identity === subjects[j]!.identity) genuine.push(s);
      else impostor[n++] = s;
    }
  }
  const impostors = impostor.subarray(0, n);
  const pairImpostors = evaluation.pairScores.filter((p) => !p.same).map((p) => p.similarity);
  const pairGenuine = evaluation.pairScores.filter((p) => p.same).map((p) => p.similarity);
  const { gallery, probes, strangers } = evaluation.openSet;
  const row = (threshold: number) => ({
    threshold,
    configured: threshold === configured,
    pairsFar: falseAcceptRate(pairImpostors, threshold),
    pairsTar: falseAcceptRate(pairGenuine, threshold),
    allPairsFar: falseAcceptRate(impostors, threshold),
    allPairsTar: falseAcceptRate(genuine, threshold),
    ...openSetRates(gallery, probes, strangers, threshold),
  });
  const candidates = [...new Set([...THRESHOLDS, ...(configured === undefined ? [] : [configured])])];
  const atTarget = thresholdAtFar(impostors, TARGET_FAR);
  return {
    configured,
    impostorPairs: impostors.length,
    genuinePairs: genuine.length,
    gallery: gallery.length,
    knownProbes: probes.length,
    strangers: strangers.length,
    table: candidates.sort((a, b) => a - b).map(row),
    forTargetFar: { far: TARGET_FAR, threshold: atTarget.threshold, tar: falseAcceptRate(genuine, atTarget.threshold) },
  };
}

/**
 * On images with several faces, the subject is the face most similar to any face in the same person's other
 * images (only identities with two or more images count). Each rule's rate is how often it picks that face.
 */
function subjectAgreement(analysed: readonly Analysed[], byIdentity: ByIdentity) {
  const rules = Object.keys(PROMINENCE_RULES) as ProminenceRule[];
  const hits = Object.fromEntries(rules.map((r) => [r, 0])) as Record<ProminenceRule, number>;
  let images = 0;
  for (const a of analysed) {
    const others = (byIdentity.get(a.identity) ?? []).filter((o) => o !== a).flatMap((o) => o.faces);
    if (a.faces.length < 2 || others.length === 0) continue;
    const affinity = (f: Face) => Math.max(...others.map((o) => cosine(f.embedding, o.embedding)));
    const subject = a.faces.reduce((best, f) => (affinity(f) > affinity(best) ? f : best));
    images++;
    for (const r of rules) if (rankByProminence(a.faces, a, r)[0] === subject) hits[r]++;
  }
  const rates = Object.fromEntries(rules.map((r) => [r, images ? hits[r] / images : Number.NaN]));
  return { images, rates: rates as Record<ProminenceRule, number> };
}

function progressBar(total: number, enabled: boolean) {
  if (!enabled || !process.stderr.isTTY) return { tick: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: 'images [{bar}] {value}/{total} | {duration}s', stream: process.stderr });
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}

function fail(message: string): never {
  console.error(`bench:accuracy: ${message}`);
  process.exit(2);
}

await main();
