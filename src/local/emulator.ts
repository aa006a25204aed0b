/**
 * The embedded S3+SQS emulator (fauxqs) that `npm start` and the tests run. Bound to 127.0.0.1 only: it
 * accepts any credentials, so it must never be reachable from the network.
 *
 * Given a state directory it keeps everything there (data-dir.ts): queues and their messages in SQLite, written
 * through on every change, and objects as plain files, each write whole (emulator-files.ts), so a restart, or a
 * kill -9, loses nothing. fauxqs's own
 * `startFauxqs` does the same but listens on every interface; so its stores and persistence classes are wired
 * here the way it wires them, around `buildApp`, which takes stores and leaves the listening to us. They are not
 * in the package's exports map, so they are loaded by file URL next to its entry point: fauxqs is pinned to an
 * exact version in package.json, and the durability tests fail if an upgrade moves them.
 */
import { buildApp } from 'fauxqs';
import { dataDirLayout } from '../shared/config/data-dir.js';
import { recoverObjectFiles, withWholeObjectFiles, type FileStoreClass, type Recovery } from './emulator-files.js';

export interface Emulator {
  /** Base URL for the SDK clients' `endpoint`, e.g. http://127.0.0.1:4566. */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  readonly port: number;
  /** The interface to listen on; default the loopback one. */
  readonly host?: string;
  readonly region: string;
  /** The data directory to keep state in; without it everything lives in memory and ends with the process. */
  readonly dataDir?: string;
  /** Told what was recovered from a crash before loading (writes finished or dropped, torn objects set aside). */
  readonly onRecovered?: (recovery: Recovery) => void;
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const state = options.dataDir === undefined ? undefined : await openState(options.dataDir, options.onRecovered);
  const app = buildApp({ logger: false, host: 'localhost', defaultRegion: options.region, stores: state?.stores });
  const closeAll = async () => {
    await app.close();
    // After the server has closed, so that no request in progress writes to a closed database.
    state?.close();
  };
  try {
    await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  } catch (err) {
    await closeAll();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `Port ${options.port} is already in use, so the embedded S3+SQS emulator cannot start: stop the other ` +
          'process (perhaps an earlier "npm start") or set EMULATOR_PORT to a free port.',
        { cause: err },
      );
    }
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = !options.host || options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  return { endpoint: `http://${host}:${port}`, port, stop: closeAll };
}

/** The parts of fauxqs's internals used here (its stores and persistence classes). */
interface Persisted {
  persistence?: unknown;
}
interface SqsStore extends Persisted {
  allQueues(): Iterable<Persisted>;
}
interface SqliteState {
  loadSqsAndSns(sqs: SqsStore, sns: Persisted): void;
  close(): void;
}
type Stores = NonNullable<NonNullable<Parameters<typeof buildApp>[0]>['stores']>;

async function internal<T>(path: string): Promise<T> {
  return (await import(new URL(path, import.meta.resolve('fauxqs')).href)) as T;
}

async function openState(dataDir: string, onRecovered: EmulatorOptions['onRecovered']) {
  const layout = dataDirLayout(dataDir);
  const [{ SqsStore }, { SnsStore }, { S3Store }, { PersistenceManager }, { FileS3Persistence }] = await Promise.all([
    internal<{ SqsStore: new () => SqsStore }>('./sqs/sqsStore.js'),
    internal<{ SnsStore: new () => Persisted }>('./sns/snsStore.js'),
    internal<{ S3Store: new () => Persisted }>('./s3/s3Store.js'),
    internal<{ PersistenceManager: new (dir: string) => SqliteState }>('./persistence.js'),
    internal<{ FileS3Persistence: FileStoreClass }>('./s3/fileS3Persistence.js'),
  ]);
  const recovery = recoverObjectFiles(layout.s3, layout.damaged);
  if (recovery.finished.length + recovery.dropped.length + recovery.damaged.length > 0) onRecovered?.(recovery);
  const sqsStore = new SqsStore();
  const snsStore = new SnsStore();
  const s3Store = new S3Store();
  const sqlite = new PersistenceManager(layout.sqs);
  const files = new (withWholeObjectFiles(FileS3Persistence))(layout.s3);
  // Load first, then attach: loading through an attached store would write every row back.
  sqlite.loadSqsAndSns(sqsStore, snsStore);
  files.loadS3(s3Store);
  sqsStore.persistence = sqlite;
  snsStore.persistence = sqlite;
  for (const queue of sqsStore.allQueues()) queue.persistence = sqlite;
  s3Store.persistence = files;
  return {
    stores: { sqsStore, snsStore, s3Store } as unknown as Stores,
    close() {
      sqlite.close();
      files.close();
    },
  };
}
