/**
 * The embedded S3+SQS emulator (fauxqs) that `npm start` and the tests run. Bound to 127.0.0.1 only: it
 * accepts any credentials, so it must never be reachable from the network.
 */
import { buildApp } from 'fauxqs';

export interface Emulator {
  /** Base URL for the SDK clients' `endpoint`, e.g. http://127.0.0.1:4566. */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startEmulator(options: { port: number; region: string }): Promise<Emulator> {
  const app = buildApp({ logger: false, host: 'localhost', defaultRegion: options.region });
  try {
    await app.listen({ port: options.port, host: '127.0.0.1' });
  } catch (err) {
    await app.close();
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
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () => app.close(),
  };
}
