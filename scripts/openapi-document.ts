/**
 * `npm run lint:openapi`'s first half: writes the OpenAPI description the web tier serves at /openapi.json to
 * a file (default `bench-results/openapi.json`), with the local stack's address as its server.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { openApiDocument } from '../src/web-tier/openapi.js';

const out = process.argv[2] ?? 'bench-results/openapi.json';
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(openApiDocument('http://127.0.0.1:8000'), null, 2)}\n`);
console.log(`wrote ${out}`);
