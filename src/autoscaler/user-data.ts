/**
 * Renders what boots a worker on an app-tier instance: the user data (deploy/app-tier/user-data.sh) with the
 * worker's configuration as an environment file. Only names and settings go in; never credentials, which the
 * SDK takes from the instance profile.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../shared/config.js';

const TEMPLATE = fileURLToPath(new URL('../../deploy/app-tier/user-data.sh', import.meta.url));
export const WORKER_UNIT = fileURLToPath(new URL('../../deploy/app-tier/facefleet-worker@.service', import.meta.url));

/** The worker's environment on AWS, as the variables src/shared/config.ts reads. */
export function workerEnvironment(config: Config): Record<string, string> {
  return {
    FACEFLEET_STACK: 'aws',
    AWS_REGION: config.aws.region,
    RESOURCE_PREFIX: config.resources.prefix,
    VISIBILITY_TIMEOUT_SECONDS: String(config.queue.visibilityTimeoutSeconds),
    MAX_RECEIVE_COUNT: String(config.queue.maxReceiveCount),
    WORKER_BATCH_SIZE: String(config.worker.batchSize),
    WORKER_WAIT_SECONDS: String(config.worker.waitTimeSeconds),
    GALLERY_REFRESH_SECONDS: String(config.worker.galleryRefreshSeconds),
    MAX_IMAGE_PIXELS: String(config.recognition.maxImagePixels),
    MATCH_THRESHOLD: config.matching.threshold === undefined ? 'off' : String(config.matching.threshold),
    MAX_FACES: String(config.matching.maxFaces),
    SHUTDOWN_GRACE_SECONDS: String(config.shutdownGraceSeconds),
    LOG_LEVEL: config.log.level,
    LOG_FORMAT: 'json',
  };
}

export function renderWorkerUserData(config: Config): string {
  return readFileSync(TEMPLATE, 'utf8').replace('{{WORKER_ENV}}', environmentFile(workerEnvironment(config)));
}

/**
 * `KEY=value` lines for a systemd EnvironmentFile. Values are names, numbers and URLs: anything else (quotes,
 * spaces, newlines) is refused rather than escaped, so that nothing can break out of the file or the script
 * that writes it.
 */
export function environmentFile(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (!/^[\w.:/@+,-]*$/.test(v)) throw new Error(`${k} has characters not allowed in user data: ${v}`);
      return `${k}=${v}`;
    })
    .join('\n');
}
