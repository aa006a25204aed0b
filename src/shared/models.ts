/**
 * The model manifest: which package the ONNX files come from, where they sit in it, and their sha256.
 * The files themselves are fetched at install time (scripts/fetch-models.ts) and never committed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

const manifestSchema = z.object({
  package: z.string(),
  version: z.string(),
  files: z.object({
    detector: z.object({ file: z.string(), pathInPackage: z.string(), bytes: z.number(), sha256: z.string() }),
    landmarks: z.object({ file: z.string(), pathInPackage: z.string(), bytes: z.number(), sha256: z.string() }),
    embedder: z.object({ file: z.string(), pathInPackage: z.string(), bytes: z.number(), sha256: z.string() }),
  }),
});

export const MODEL_MANIFEST = manifestSchema.parse(
  JSON.parse(readFileSync(new URL('../../models/manifest.json', import.meta.url), 'utf8')),
);
export type ModelName = keyof typeof MODEL_MANIFEST.files;
export const MODEL_FILES = MODEL_MANIFEST.files;

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
