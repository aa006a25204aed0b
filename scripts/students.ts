/**
 * `npm run students -- --file records.csv`: loads (or updates) the student records that classroom videos'
 * CSVs carry, into the `<prefix>-students` table (dynalite under `npm start`, DynamoDB with FACEFLEET_STACK=aws).
 * The file is read and checked whole first (a `name` column, the enrolled person's name, then the record's
 * fields): one bad row and nothing is loaded, each problem named by its line and field. A student's record is
 * replaced whole. The students not enrolled in the gallery are named: they cannot be recognised until they are.
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { createS3Client } from '../src/shared/aws/clients.js';
import { loadConfig } from '../src/shared/config/config.js';
import { toolEnvironment } from '../src/local/running-stack.js';
import { DEFAULT_COLLECTION, validateCollectionName } from '../src/shared/collections/manifest.js';
import { CollectionRepository } from '../src/shared/collections/repository.js';
import { MODEL_FILES } from '../src/shared/models.js';
import { parseStudentRecords, StudentRecordsError } from '../src/shared/video/student-records.js';
import { StudentTable } from '../src/shared/video/student-table.js';
import { createDynamoClient } from '../src/shared/aws/clients.js';

const program = new Command()
  .name('npm run students --')
  .description('Load or update the student records that classroom videos are reported with.')
  .requiredOption('--file <csv>', 'CSV with a header: name (as enrolled), then the record’s fields (id, major, …)')
  .option(
    '--collection <name>',
    'the collection the students are enrolled in (said when one is not)',
    DEFAULT_COLLECTION,
  )
  .showHelpAfterError();

async function main(): Promise<void> {
  const opts = program.parse().opts<{ file: string; collection: string }>();
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
  let text: string;
  try {
    text = await readFile(opts.file, 'utf8');
  } catch (err) {
    fail(`cannot read ${opts.file}: ${(err as Error).message}`);
  }
  let records;
  try {
    records = parseStudentRecords(text);
  } catch (err) {
    if (err instanceof StudentRecordsError) fail(`${opts.file}: ${err.message}`);
    throw err;
  }
  const table = config.resources.studentsTable;
  const where = config.aws.dynamodbEndpoint ?? `DynamoDB in ${config.aws.region}`;
  const dynamodb = createDynamoClient(config);
  let result;
  try {
    result = await new StudentTable(dynamodb, table).load(records);
  } catch (err) {
    const e = err as Error;
    fail(
      e.name === 'ResourceNotFoundException'
        ? `the table ${table} does not exist at ${where}: start the stack (npm start) or provision it (npm run aws:provision). Nothing was loaded.`
        : `could not write to ${table} at ${where}: ${e.message}. Is "npm start" running (or FACEFLEET_STACK=aws set with credentials)? Records written before the failure stay; run the command again to load the rest.`,
    );
  } finally {
    dynamodb.destroy();
  }
  if (result.unwritten.length > 0) {
    fail(
      `${result.written} of ${records.records.size} records were loaded into ${table}; ${result.unwritten.length} were not ` +
        `(DynamoDB kept refusing them under load): ${result.unwritten.slice(0, 20).join(', ')}. ` +
        'Run the command again: each write replaces a student’s record whole, so nothing is doubled.',
    );
  }
  console.log(
    `Loaded ${result.written} student records into ${table} at ${where} (fields: ${records.fields.join(', ') || 'none'}).`,
  );
  await warnUnenrolled(config, [...records.records.keys()], opts.collection);
}

/** Names the students the collection does not hold; says nothing when it cannot be read. */
async function warnUnenrolled(
  config: ReturnType<typeof loadConfig>,
  names: string[],
  collection: string,
): Promise<void> {
  const s3 = createS3Client(config);
  try {
    const { view } = await new CollectionRepository(
      s3,
      config.resources.galleryBucket,
      MODEL_FILES.embedder.sha256,
    ).read(collection);
    const missing = names.filter((n) => view.readsAs(n) === undefined);
    if (missing.length > 0)
      console.warn(
        `warning: ${missing.length === 1 ? '1 of these students is' : `${missing.length} of these students are`} not enrolled, so no video will recognise them until they are: ` +
          `${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''}`,
      );
  } catch {
    // No gallery yet, or no S3: the records are loaded all the same.
  } finally {
    s3.destroy();
  }
}

function fail(message: string): never {
  console.error(`students: ${message}`);
  process.exit(1);
}

await main();
