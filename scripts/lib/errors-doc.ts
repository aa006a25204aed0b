/**
 * The error table in docs/api.md, produced from the error catalogue (src/shared/wire/errors.ts): every code, its
 * status, whether a client may retry, and its sentence with the parameters as ‹name›. `npm run docs:config`
 * writes it beside the settings table, and a test fails when the document is stale.
 */
import { fileURLToPath } from 'node:url';
import type { GeneratedSection } from './generated-section.js';
import { loadConfig } from '../../src/shared/config/config.js';
import { ERROR_CATALOGUE } from '../../src/shared/wire/errors.js';
import { MAX_BATCH_BYTES } from '../../src/shared/wire/monitor-reports.js';

export const API_DOC = fileURLToPath(new URL('../../docs/api.md', import.meta.url));
const START = '<!-- errors:start (generated from src/shared/wire/errors.ts by npm run docs:config) -->';
const END = '<!-- errors:end -->';

/** Sizes that a sentence turns into MiB or KiB: their defaults, so the table says what a client meets. */
function limitBytesOf(code: string): number | undefined {
  const config = loadConfig({});
  if (code === 'FILE_TOO_LARGE') return config.web.maxUploadBytes;
  if (code === 'VIDEO_TOO_LARGE') return config.video.maxBytes;
  if (code === 'REPORTS_TOO_LARGE') return MAX_BATCH_BYTES;
  return undefined;
}

/** One row per code, in the catalogue's order. */
export function errorsTable(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(([code, spec]) => {
    const params = new Proxy(
      {},
      {
        get: (_t, key) =>
          key === 'limitBytes' ? limitBytesOf(code) : typeof key === 'string' ? `‹${key}›` : undefined,
      },
    );
    const sentence = (spec.message as (p: object) => string)(params);
    return [`\`${code}\``, String(spec.status), spec.retryable ? 'yes' : 'no', sentence.replaceAll('|', '\\|')];
  });
  const header = ['code', 'status', 'retry', 'the sentence (‹…›: filled in for each answer)'];
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** The error table of docs/api.md. */
export const ERRORS_SECTION: GeneratedSection = { doc: API_DOC, start: START, end: END, table: errorsTable };
