/**
 * The local stack's API key, when `npm start` was given none: made once, kept in the data directory (`api-key`,
 * readable by its owner only), so that the console link and the tools keep working across restarts. An
 * explicit API_KEY wins and is never written here.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

export interface LocalApiKey {
  readonly key: string;
  /** True when this start made it (a new data directory). */
  readonly made: boolean;
}

/** At least this long: shorter is taken as a damaged file, and replaced. */
const MIN_LENGTH = 16;

export function localApiKey(file: string): LocalApiKey {
  const kept = readKey(file);
  if (kept) return { key: kept, made: false };
  const key = randomBytes(24).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, made: true };
}

/** The kept key, if there is one. */
export function readKey(file: string): string | undefined {
  try {
    const key = readFileSync(file, 'utf8').trim();
    return key.length >= MIN_LENGTH ? key : undefined;
  } catch {
    return undefined;
  }
}
