/**
 * Renders what boots a worker on an app-tier instance: the user data (deploy/app-tier/user-data.sh) with the
 * worker's configuration as an environment file. Only names and settings go in; never credentials, which the
 * SDK takes from the instance profile.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../shared/config/config.js';
import { environmentFile, instanceEnvironment } from '../shared/config/instance-environment.js';

const TEMPLATE = fileURLToPath(new URL('../../deploy/app-tier/user-data.sh', import.meta.url));
export const WORKER_UNIT = fileURLToPath(new URL('../../deploy/app-tier/facefleet-worker@.service', import.meta.url));

/** The worker's environment on AWS, as the variables src/shared/config/config.ts reads (declared in settings.ts). */
export function workerEnvironment(config: Config): Record<string, string> {
  return instanceEnvironment(config, 'worker');
}

export function renderWorkerUserData(config: Config): string {
  return readFileSync(TEMPLATE, 'utf8').replace('{{WORKER_ENV}}', environmentFile(workerEnvironment(config)));
}
