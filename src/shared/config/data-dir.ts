/**
 * What `npm start` keeps in its data directory (DATA_DIR, default `.facefleet/`):
 *
 *   sqs/fauxqs.db        the emulator's queues and their messages, ready and in flight (SQLite, written through)
 *   s3/buckets/<bucket>/objects/<key>.data       each object's bytes, as a plain file
 *   s3/buckets/<bucket>/objects/<key>.meta.json  its metadata
 *   dynamodb/            the student records (dynalite's LevelDB)
 *   monitor.sqlite       the monitoring server's reports (SQLite; its -wal and -shm files beside it)
 *   fleet/               one file per local worker, so a restarted autoscaler finds its workers again
 *   damaged/             objects that a crash left half-written, set aside at the next start
 *   stack.pid            the stack that uses the directory (one at a time): its process, and once it is ready
 *                        its addresses, which the tools read to find it (src/local/running-stack.ts)
 *   api-key              the local API key `npm start` made, when none was given (mode 600; kept by --fresh)
 */
import { join } from 'node:path';

export interface DataDirLayout {
  readonly root: string;
  readonly sqs: string;
  readonly s3: string;
  readonly fleet: string;
  readonly monitor: string;
  readonly dynamodb: string;
  readonly damaged: string;
  readonly lock: string;
  readonly apiKey: string;
}

export function dataDirLayout(root: string): DataDirLayout {
  return {
    root,
    sqs: join(root, 'sqs'),
    s3: join(root, 's3'),
    fleet: join(root, 'fleet'),
    monitor: join(root, 'monitor.sqlite'),
    dynamodb: join(root, 'dynamodb'),
    damaged: join(root, 'damaged'),
    lock: join(root, 'stack.pid'),
    apiKey: join(root, 'api-key'),
  };
}
