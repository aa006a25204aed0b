/**
 * How the tools (`npm run enroll`, `students`, `workload`) find the stack `npm start` runs: the hold on its data
 * directory (DATA_DIR, default `.facefleet/`) records where the ready stack answers (data-dir.ts), so settings given
 * to `npm start` (EMULATOR_PORT, PORT, RESOURCE_PREFIX …) need not be repeated. A setting given to the tool wins.
 */
import { resolve } from 'node:path';
import { dataDirLayout } from '../shared/config/data-dir.js';
import { DEFAULT_DATA_DIR } from '../shared/config/settings.js';
import { holderOf, type StackAddresses } from './data-dir.js';

type Env = Record<string, string | undefined>;

/** The ready stack of the data directory that `env` names, if one runs. */
export function runningStack(env: Env = process.env): { dataDir: string; addresses?: StackAddresses } {
  const dataDir = resolve(env['DATA_DIR'] || DEFAULT_DATA_DIR);
  const addresses = holderOf(dataDirLayout(dataDir))?.addresses;
  return { dataDir, ...(addresses ? { addresses } : {}) };
}

/**
 * The environment a tool that writes to the stack's buckets and tables runs with: `env`, and where no endpoint
 * is given (AWS_ENDPOINT_URL, EMULATOR_PORT) nor AWS chosen (FACEFLEET_STACK=aws), the running stack's
 * endpoints and resource prefix. Throws, saying how to start one, when there is none.
 */
export function toolEnvironment(env: Env = process.env): Env {
  if (env['FACEFLEET_STACK'] === 'aws' || env['AWS_ENDPOINT_URL'] || env['EMULATOR_PORT']) return env;
  const { dataDir, addresses } = runningStack(env);
  if (!addresses) {
    throw new Error(
      `no facefleet stack is running with the data directory ${dataDir}. Start one with "npm start" in ` +
        'another terminal (with the same DATA_DIR, if you gave it one), or name one with AWS_ENDPOINT_URL, or set ' +
        'FACEFLEET_STACK=aws to use AWS.',
    );
  }
  return {
    ...env,
    AWS_ENDPOINT_URL: addresses.emulatorEndpoint,
    DYNAMODB_ENDPOINT_URL: env['DYNAMODB_ENDPOINT_URL'] || addresses.dynamodbEndpoint,
    RESOURCE_PREFIX: env['RESOURCE_PREFIX'] || addresses.resourcePrefix,
  };
}
