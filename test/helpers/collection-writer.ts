/**
 * A process that enrolls one face after another into a collection until it is killed, saying each version it
 * stored on standard output: the writer that collections-store.test.ts kills with SIGKILL at a random moment.
 * Arguments: the S3 endpoint, the bucket, the collection, the embedder sha256, the first person's number.
 */
import { createS3Client } from '../../src/shared/aws/clients.js';
import { CollectionRepository, faceToAdd } from '../../src/shared/collections/repository.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { EMBEDDING_DIMENSIONS } from '../../src/shared/collections/names-and-faces.js';

const [endpoint, bucket, collection, sha, from] = process.argv.slice(2) as [string, string, string, string, string];
const s3 = createS3Client(loadConfig({ AWS_ENDPOINT_URL: endpoint }));
const repository = new CollectionRepository(s3, bucket, sha, { smallCount: 10_000, minEntries: 4 });
for (let p = Number(from); ; p++) {
  const embedding = new Float32Array(EMBEDDING_DIMENSIONS);
  embedding[p % EMBEDDING_DIMENSIONS] = 1;
  const face = { id: p.toString(16).padStart(16, '0'), embedding };
  const { version } = await repository.change(
    collection,
    (view) => ({
      add: view.planAdd(`W${p}`, [face]).map((f) => faceToAdd(`W${p}`, f)),
      // Every third change removes the face before, so tombstones are killed mid-write too.
      remove: p % 3 === 0 && view.has(`W${p - 1}`) ? view.person(`W${p - 1}`).map((f) => f.id) : [],
      result: {},
    }),
    { create: true },
  );
  process.stdout.write(`stored ${version}\n`);
  // And compaction, which merges at the end of the list while this writer appends.
  if (p % 5 === 0) await repository.compact(collection);
}
