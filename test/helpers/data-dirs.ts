/**
 * Directories a test file makes in the temporary directory (its stacks' data, scratch files), removed after the
 * file (setup.ts), so that a run leaves nothing behind. Kept free of imports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs: string[] = [];

export function newDataDir(): string {
  return newScratchDir('facefleet-test-');
}

/** A fresh directory named `<prefix><random>`, removed after the test file. */
export function newScratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeDataDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
