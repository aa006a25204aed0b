/**
 * `npm run enroll -- --images DIR [--labels CSV] [--collection NAME] [--replace]`: computes embeddings with the
 * same engine the workers run and adds them to a collection (the default one unless named; created if new) as
 * one new segment. Workers pick it up within GALLERY_REFRESH_SECONDS, without a restart. `--replace` removes
 * everyone the collection held first, and says how many faces that was. With no other flags it targets the
 * running `npm start` stack.
 *
 * Labels come either from a CSV with columns `Image,Results` keyed by file stem (the course's format) or, when
 * no CSV is given, from one sub-folder per person. Byte-identical images are embedded once. The rules and the
 * gallery write are the enrollment API's (src/enrollment/): valid names, exactly one face per photo, a versioned,
 * conditional write; only here a photo that breaks the one-face rule is left out instead of refusing them all.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Command, Option } from 'commander';
import { parse } from 'csv-parse/sync';
import { pino } from 'pino';
import { loadEngine, type RecognitionEngine } from '../src/app-tier/recognition/engine.js';
import { embeddingOf, ENROLLMENT_ANALYSIS, type Embedding } from '../src/enrollment/face-rule.js';
import { BulkEnrollment } from '../src/enrollment/plan.js';
import { EnrollmentService } from '../src/enrollment/service.js';
import { createS3Client } from '../src/shared/aws/clients.js';
import { loadConfig } from '../src/shared/config/config.js';
import { toolEnvironment } from '../src/local/running-stack.js';
import { validatePersonName } from '../src/shared/collections/names-and-faces.js';
import { DEFAULT_COLLECTION, validateCollectionName } from '../src/shared/collections/manifest.js';
import { CollectionRepository } from '../src/shared/collections/repository.js';
import { EXTENSION_NAMES, IMAGE_EXTENSIONS } from '../src/shared/wire/image-formats.js';
import { fileStem } from '../src/shared/wire/messages.js';
import { MODEL_FILES } from '../src/shared/models.js';

interface LabelledImage {
  readonly path: string;
  readonly label: string;
}

const program = new Command()
  .name('npm run enroll --')
  .description('Enroll a gallery of labelled face images for the workers to match against.')
  .requiredOption('--images <dir>', 'folder of images (or of one sub-folder per person when --labels is absent)')
  .option('--labels <csv>', 'CSV with columns Image,Results: file stem and person name')
  .option('--collection <name>', 'the collection to enroll into (created if new)', DEFAULT_COLLECTION)
  .option('--replace', 'remove everyone the collection holds first (it is added to otherwise)', false)
  // Adding is what it does now; --merge is kept so that older scripts keep working.
  .addOption(new Option('--merge').hideHelp())
  .showHelpAfterError();

async function main(): Promise<void> {
  const opts = program
    .parse()
    .opts<{ images: string; labels?: string; collection: string; replace: boolean; merge?: boolean }>();
  if (opts.merge && opts.replace) fail('--merge and --replace contradict each other: give one');
  try {
    validateCollectionName(opts.collection);
  } catch (err) {
    fail((err as Error).message);
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(toolEnvironment());
  } catch (err) {
    fail((err as Error).message);
  }
  const images = opts.labels ? await fromCsv(opts.images, opts.labels) : await fromFolders(opts.images);
  if (images.length === 0) fail(`no labelled ${EXTENSION_NAMES} images found in ${opts.images}`);
  for (const name of new Set(images.map((i) => i.label))) {
    try {
      validatePersonName(name);
    } catch (err) {
      fail((err as Error).message);
    }
  }

  // One photo at a time: read, skip if a copy, embed, keep only its face.
  const bulk = new BulkEnrollment();
  const engine = await loadEngine(config.recognition);
  for (const { path, label } of images) {
    const photo = { file: path, label, bytes: await readFile(path) };
    if (bulk.take(photo)) bulk.add({ ...photo, embedding: await embed(engine, photo.bytes) });
  }
  await engine.close();
  for (const { file, earlier } of bulk.relabelled) {
    console.warn(`warning: ${file} is also enrolled as "${earlier}"; keeping both labels`);
  }
  const { people, refused, duplicates } = bulk;

  const s3 = createS3Client(config);
  const collections = new CollectionRepository(s3, config.resources.galleryBucket, MODEL_FILES.embedder.sha256);
  const enrollment = new EnrollmentService({
    collections,
    // The command stores no photos, so it never deletes any.
    deletePhotos: async () => undefined,
    // It deletes nothing, the only thing the service logs about; the command prints its own summary.
    logger: pino({ level: 'silent' }),
  });
  let stored: Awaited<ReturnType<EnrollmentService['store']>>;
  try {
    stored = await enrollment.store(opts.collection, people, { replace: opts.replace });
    // Small segments pile up with many enrollments; they are merged here rather than left to the web tier.
    await collections.compact(opts.collection);
  } catch (err) {
    fail(
      `could not store the gallery in bucket ${config.resources.galleryBucket} at ${config.aws.endpoint ?? 'AWS'}: ` +
        `${(err as Error).message} Is "npm start" running (or FACEFLEET_STACK=aws set with credentials)?`,
    );
  }
  s3.destroy();
  if (opts.replace) console.log(`Removed the ${stored.removed} faces the collection "${opts.collection}" held.`);
  console.log(
    `Enrolled ${stored.faces} faces of ${stored.people} people from ${images.length} images ` +
      `(${duplicates} duplicates skipped, ${refused.length} refused) into s3://${config.resources.galleryBucket}, ` +
      `collection ${opts.collection}, gallery version ${stored.version} (${stored.added} faces new). ` +
      `Workers load it within ${config.worker.galleryRefreshSeconds} s.`,
  );
  for (const reason of refused) console.warn(`not enrolled: ${reason}`);
}

/** The photo's two largest faces, as the workers embed them for the enrollment API. */
async function embed(engine: RecognitionEngine, bytes: Uint8Array): Promise<Embedding> {
  try {
    return embeddingOf(await engine.analyze(bytes, ENROLLMENT_ANALYSIS.maxFaces, ENROLLMENT_ANALYSIS));
  } catch {
    return { kind: 'unreadable' };
  }
}

async function fromCsv(dir: string, csvPath: string): Promise<LabelledImage[]> {
  const rows = parse(await readFile(csvPath, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Record<
    string,
    string
  >[];
  if (rows.length === 0 || !('Image' in rows[0]!) || !('Results' in rows[0]!)) {
    fail(`${csvPath} must have a header with the columns Image and Results`);
  }
  const labels = new Map(rows.map((r) => [fileStem(r['Image']!), r['Results']!]));
  const files = await imageFiles(dir);
  const labelled = files.flatMap((path) => {
    const label = labels.get(fileStem(path.split('/').pop()!));
    return label ? [{ path, label }] : [];
  });
  if (labelled.length < files.length) {
    console.warn(`warning: ${files.length - labelled.length} images in ${dir} have no row in ${csvPath}; skipped`);
  }
  return labelled;
}

async function fromFolders(dir: string): Promise<LabelledImage[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => fail(`cannot read the folder ${dir}`));
  const people = entries.filter((e) => e.isDirectory());
  if (people.length === 0)
    fail(`${dir} has no sub-folders; give --labels CSV, or put each person's images in a folder`);
  const result: LabelledImage[] = [];
  for (const person of people) {
    for (const path of await imageFiles(join(dir, person.name))) result.push({ path, label: person.name });
  }
  return result;
}

async function imageFiles(dir: string): Promise<string[]> {
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) fail(`${dir} is not a folder`);
  const names = await readdir(dir);
  return names
    .filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase()))
    .sort()
    .map((n) => join(dir, n));
}

function fail(message: string): never {
  console.error(`enroll: ${message}`);
  process.exit(1);
}

await main();
