/**
 * Entry point of one app-tier worker (a child process locally, a systemd service on EC2): the worker as
 * compose-worker.ts wires it, until SIGTERM, finishing what it holds.
 */
import { runMain } from '../shared/process.js';
import { composeWorker } from './compose-worker.js';

await runMain('app-tier worker', composeWorker);
