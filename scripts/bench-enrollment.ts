/**
 * `npm run bench:enrollment -- [--dataset DIR] [--pairs N] [--json]`: what the enrollment face rule
 * (src/enrollment/face-rule.ts) refuses on the LFW View 1 photos, and why its limits are where they are.
 *
 * 1. Every photo analysed as an enrollment is (its two largest faces): how many the old one-face rule refused,
 *    how many the face rule refuses, by reason.
 * 2. Dominance: on photos with two or more faces, for a range of ratios (largest face's width ÷ the next's), how
 *    many are enrolled and how many of those enroll someone other than the subject (LFW photos are centred on
 *    their subject: the subject's box holds the photo's centre).
 * 3. Size and blur: the first N same-person and N different-person pairs, photo a shrunk (its face to 48 … 16 px
 *    wide) or blurred (Gaussian σ 1.5 … 6), photo b as it is, as an enrolled photo meets a later probe. For each,
 *    the face's width and sharpness, and how often the service's MATCH_THRESHOLD matches the same person (TAR)
 *    and takes a different one for them (FAR). Then the same pairs grouped by sharpness and by width: where the
 *    rule's limits cut.
 * 4. What the rule buys on the photos as they are: the pairs' TAR and FAR at the threshold, with every photo and
 *    with only the photos the rule enrolls.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { loadEngine, type Analysis, type Face, type RecognitionEngine } from '../src/app-tier/recognition/engine.js';
import { embeddingOf, ENROLLMENT_ANALYSIS, FACE_RULE, theFaceToEnroll } from '../src/enrollment/face-rule.js';
import { loadConfig } from '../src/shared/config/config.js';
import { AppError } from '../src/shared/wire/errors.js';
import { cosine } from './lib/accuracy.js';
import { positiveInt } from './lib/options.js';

const RATIOS = [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.75, 2];
const WIDTHS = [48, 32, 24, 20, 16, 12];
const SIGMAS = [1.5, 2.5, 3, 4, 6];
const SHARPNESS_BINS = [0, 5, 10, 20, 40, 60, 120, Infinity];
const WIDTH_BINS = [0, 16, 20, 24, 32, 48, Infinity];

const program = new Command()
  .name('npm run bench:enrollment --')
  .description('Measure what the enrollment face rule refuses on LFW View 1, and what its limits buy.')
  .option('--dataset <dir>', 'folder with images/, labels.csv and pairs.csv', '../shared/datasets/lfw-view1-train')
  .option('--pairs <n>', 'same-person and different-person pairs for the size and blur figures', positiveInt, 150)
  .option('--json', 'print the figures as JSON')
  .showHelpAfterError();

const width = (f: Face) => f.box.x2 - f.box.x1;
const holdsCentre = (f: Face, a: Analysis) =>
  f.box.x1 <= a.width / 2 && a.width / 2 <= f.box.x2 && f.box.y1 <= a.height / 2 && a.height / 2 <= f.box.y2;

/** The face rule's verdict on an analysis: the reason code, or 'enrolled'. */
function verdict(file: string, a: Analysis): string {
  try {
    theFaceToEnroll(file, embeddingOf(a));
    return 'enrolled';
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
}

interface Variant {
  readonly name: string;
  /** The photo as it is degraded, from the original bytes and its largest face's width. */
  readonly make: (bytes: Buffer, faceWidth: number) => Promise<Buffer>;
}

const VARIANTS: Variant[] = [
  { name: 'as it is', make: async (bytes) => bytes },
  ...WIDTHS.map((w) => ({
    name: `face ${w} px wide`,
    make: async (bytes: Buffer, faceWidth: number) => {
      const { width: photoWidth = 250 } = await sharp(bytes).metadata();
      return sharp(bytes)
        .resize(Math.max(8, Math.round((photoWidth * w) / faceWidth)))
        .jpeg({ quality: 92 })
        .toBuffer();
    },
  })),
  ...SIGMAS.map((sigma) => ({
    name: `blurred σ ${sigma}`,
    make: async (bytes: Buffer) => sharp(bytes).blur(sigma).jpeg({ quality: 92 }).toBuffer(),
  })),
];

interface ScoredA {
  readonly variant: string;
  readonly same: boolean;
  /** Undefined when no face was found in the degraded photo. */
  readonly similarity?: number;
  readonly width?: number;
  readonly sharpness?: number;
}

async function main(): Promise<void> {
  const opts = program.parse().opts<{ dataset: string; pairs: number; json?: boolean }>();
  const config = loadConfig();
  const threshold = config.matching.threshold ?? 0.45;
  const read = async (name: string) => {
    try {
      return parse(await readFile(join(opts.dataset, name), 'utf8'), { columns: true, skip_empty_lines: true });
    } catch (err) {
      console.error(`bench:enrollment: cannot read ${join(opts.dataset, name)}: ${(err as Error).message}`);
      process.exit(2);
    }
  };
  const files = ((await read('labels.csv')) as { image: string }[]).map((r) => r.image).sort();
  const pairRows = (await read('pairs.csv')) as { image_a: string; image_b: string; same: string }[];
  const pairs = [
    ...pairRows.filter((p) => p.same === '1').slice(0, opts.pairs),
    ...pairRows.filter((p) => p.same !== '1').slice(0, opts.pairs),
  ].map((p) => ({ a: p.image_a, b: p.image_b, same: p.same === '1' }));

  const engine = await loadEngine(config.recognition);
  await engine.warmUp();
  const log = (line: string) => opts.json || console.error(line);
  const photo = (file: string) => readFile(join(opts.dataset, 'images', file));
  const analyse = (e: RecognitionEngine, bytes: Uint8Array) =>
    e.analyze(bytes, ENROLLMENT_ANALYSIS.maxFaces, ENROLLMENT_ANALYSIS);

  // 1, 2: every photo, as an enrollment.
  const started = performance.now();
  const analysed = new Map<string, Analysis>();
  for (const [i, file] of files.entries()) {
    analysed.set(file, await analyse(engine, await photo(file)));
    if (i % 500 === 499) log(`  analysed ${i + 1} of ${files.length} photos`);
  }
  const perPhotoMs = (performance.now() - started) / files.length;
  const count = (f: (a: Analysis, file: string) => boolean) => [...analysed].filter(([file, a]) => f(a, file)).length;
  const before = {
    noFace: count((a) => a.facesFound === 0),
    manyFaces: count((a) => a.facesFound > 1),
  };
  const reasons: Record<string, number> = {};
  for (const [file, a] of analysed) {
    const v = verdict(file, a);
    reasons[v] = (reasons[v] ?? 0) + 1;
  }
  const multi = [...analysed.values()].filter((a) => a.faces.length >= 2);
  const dominance = RATIOS.map((ratio) => {
    const enrolled = multi.filter((a) => width(a.faces[0]!) >= ratio * width(a.faces[1]!));
    return {
      ratio,
      enrolled: enrolled.length,
      notTheSubject: enrolled.filter((a) => !holdsCentre(a.faces[0]!, a)).length,
      configured: ratio === FACE_RULE.dominance,
    };
  });
  const sharpnessOfSubjects = [...analysed.values()]
    .filter((a) => a.faces[0])
    .map((a) => a.faces[0]!.sharpness!)
    .sort((x, y) => x - y);

  // 3: degraded photo a against photo b as it is.
  const scored: ScoredA[] = [];
  for (const [i, pair] of pairs.entries()) {
    const b = analysed.get(pair.b)?.faces[0];
    const a0 = analysed.get(pair.a)?.faces[0];
    if (!a0 || !b) continue;
    const bytes = await photo(pair.a);
    for (const variant of VARIANTS) {
      const a = (await analyse(engine, await variant.make(bytes, width(a0)))).faces[0];
      scored.push({
        variant: variant.name,
        same: pair.same,
        ...(a ? { similarity: cosine(a.embedding, b.embedding), width: width(a), sharpness: a.sharpness } : {}),
      });
    }
    if (i % 50 === 49) log(`  degraded ${i + 1} of ${pairs.length} pairs`);
  }
  await engine.close();
  const rates = (rows: readonly ScoredA[]) => {
    const same = rows.filter((r) => r.same);
    const other = rows.filter((r) => !r.same);
    const matched = (r: ScoredA) => r.similarity !== undefined && r.similarity >= threshold;
    return {
      pairs: rows.length,
      noFace: rows.filter((r) => r.similarity === undefined).length,
      tar: same.length ? same.filter(matched).length / same.length : NaN,
      far: other.length ? other.filter(matched).length / other.length : NaN,
    };
  };
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
  const variants = VARIANTS.map((v) => {
    const rows = scored.filter((r) => r.variant === v.name);
    return {
      variant: v.name,
      medianWidth: median(rows.flatMap((r) => (r.width === undefined ? [] : [r.width]))),
      medianSharpness: median(rows.flatMap((r) => (r.sharpness === undefined ? [] : [r.sharpness]))),
      ...rates(rows),
    };
  });
  const binned = (key: 'sharpness' | 'width', edges: number[]) =>
    edges.slice(0, -1).map((low, i) => {
      const high = edges[i + 1]!;
      const rows = scored.filter((r) => r[key] !== undefined && r[key] >= low && r[key] < high);
      return { from: low, to: high, ...rates(rows) };
    });

  // 4: the photos as they are, every pair of the dataset.
  const allPairs = pairRows.map((p) => ({ a: p.image_a, b: p.image_b, same: p.same === '1' }));
  const asTheyAre = (keep: (file: string) => boolean) =>
    rates(
      allPairs
        .filter((p) => keep(p.a) && keep(p.b))
        .map((p) => {
          const [a, b] = [analysed.get(p.a)?.faces[0], analysed.get(p.b)?.faces[0]];
          return {
            variant: 'as it is',
            same: p.same,
            ...(a && b ? { similarity: cosine(a.embedding, b.embedding) } : {}),
          };
        }),
    );
  const enrolls = (file: string) => {
    const a = analysed.get(file);
    return a !== undefined && verdict(file, a) === 'enrolled';
  };

  const report = {
    date: new Date().toISOString().slice(0, 10),
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    dataset: opts.dataset,
    rule: FACE_RULE,
    threshold,
    photos: files.length,
    perPhotoMs,
    refusals: {
      oneFaceRule: { ...before, total: before.noFace + before.manyFaces },
      faceRule: reasons,
    },
    multiFacePhotos: multi.length,
    dominance,
    subjectSharpness: {
      p1: sharpnessOfSubjects[Math.floor(sharpnessOfSubjects.length * 0.01)],
      p5: sharpnessOfSubjects[Math.floor(sharpnessOfSubjects.length * 0.05)],
      median: median(sharpnessOfSubjects),
    },
    degraded: {
      pairs: pairs.length,
      variants,
      bySharpness: binned('sharpness', SHARPNESS_BINS),
      byWidth: binned('width', WIDTH_BINS),
    },
    photosAsTheyAre: { every: asTheyAre(() => true), enrolledOnly: asTheyAre(enrolls) },
  };
  if (opts.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const pct = (x: number) => (Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`);
  const refusedOf = (r: Record<string, number>) =>
    Object.entries(r)
      .filter(([k]) => k !== 'enrolled')
      .reduce((s, [, n]) => s + n, 0);
  console.log(
    `Enrollment face rule on ${opts.dataset}, ${report.date} — ${report.machine.cpu}, ${report.machine.cores} cores, ${process.version}`,
  );
  console.log(
    `  rule: dominance ${FACE_RULE.dominance}, width ≥ ${FACE_RULE.minWidth} px, sharpness ≥ ${FACE_RULE.minSharpness}; MATCH_THRESHOLD ${threshold}`,
  );
  console.log(`  ${files.length} photos, ${perPhotoMs.toFixed(1)} ms each (two largest faces embedded)`);
  console.log('\nRefused');
  console.log(
    `  one-face rule (before): ${report.refusals.oneFaceRule.total} (${pct(report.refusals.oneFaceRule.total / files.length)}): ` +
      `${before.noFace} without a face, ${before.manyFaces} with more than one`,
  );
  console.log(
    `  face rule (now):        ${refusedOf(reasons)} (${pct(refusedOf(reasons) / files.length)}): ` +
      Object.entries(reasons)
        .filter(([k]) => k !== 'enrolled')
        .map(([k, n]) => `${n} ${k}`)
        .join(', '),
  );
  console.log(`\nDominance, on the ${multi.length} photos with two or more faces (largest width ÷ next)`);
  console.log('  ratio  enrolled  not the subject');
  for (const d of dominance) {
    console.log(
      `  ${d.ratio.toFixed(2).padStart(5)}  ${String(d.enrolled).padStart(8)}  ${String(d.notTheSubject).padStart(15)}${d.configured ? '  ← the rule' : ''}`,
    );
  }
  console.log(
    `\nSharpness of every photo's largest face: 1st percentile ${report.subjectSharpness.p1?.toFixed(0)}, ` +
      `5th ${report.subjectSharpness.p5?.toFixed(0)}, median ${report.subjectSharpness.median.toFixed(0)}`,
  );
  console.log(`\nDegraded enrollment photo against a probe as it is (${pairs.length} pairs; TAR/FAR at ${threshold})`);
  console.log('  photo a              width  sharpness  no face    TAR    FAR');
  for (const v of variants) {
    console.log(
      `  ${v.variant.padEnd(19)} ${v.medianWidth.toFixed(0).padStart(6)} ${v.medianSharpness.toFixed(0).padStart(10)} ` +
        `${String(v.noFace).padStart(8)} ${pct(v.tar).padStart(6)} ${pct(v.far).padStart(6)}`,
    );
  }
  for (const [title, rows, unit] of [
    ['sharpness', report.degraded.bySharpness, ''],
    ['width', report.degraded.byWidth, ' px'],
  ] as const) {
    console.log(`  by the degraded face's ${title}:`);
    for (const r of rows) {
      console.log(
        `    ${`${r.from}–${r.to === Infinity ? '' : r.to}${unit}`.padEnd(12)} ${String(r.pairs).padStart(5)} pairs  ` +
          `TAR ${pct(r.tar).padStart(6)}  FAR ${pct(r.far).padStart(6)}`,
      );
    }
  }
  const e = report.photosAsTheyAre;
  console.log(`\nThe dataset's ${allPairs.length} pairs as they are, at ${threshold}`);
  console.log(`  every photo:          ${e.every.pairs} pairs, TAR ${pct(e.every.tar)}, FAR ${pct(e.every.far)}`);
  console.log(
    `  photos the rule takes: ${e.enrolledOnly.pairs} pairs, TAR ${pct(e.enrolledOnly.tar)}, FAR ${pct(e.enrolledOnly.far)}`,
  );
}

await main();
