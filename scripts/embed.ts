/**
 * `npm run embed -- FILE... [--list FILE]`: one JSON line per image on stdout, with every face the engine the
 * workers run finds, most prominent first:
 *   {"file": …, "width": …, "height": …, "faces": [{"box": [x1, y1, x2, y2], "score": …, "embedding": [512 numbers]}]}
 * `"faces": []` when there is none. An image that cannot be read or decoded gets {"file": …, "error": …} and
 * the command exits with 1 at the end. Embeddings are unit vectors: a dot product is their cosine similarity.
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { loadEngine } from '../src/app-tier/recognition/engine.js';
import { loadConfig } from '../src/shared/config/config.js';
import { FORMAT_NAMES } from '../src/shared/wire/image-formats.js';

const program = new Command()
  .name('npm run embed --')
  .description('Print the faces and embeddings of images as JSON lines, with the engine the workers run.')
  .argument('[files...]', `images (${FORMAT_NAMES})`)
  .option('--list <file>', 'a file with one image path per line ("-" for standard input)')
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{ list?: string }>();
  const files = [...(program.processedArgs[0] as string[])];
  if (opts.list) {
    const text =
      opts.list === '-' ? await readStdin() : await readFile(opts.list, 'utf8').catch(() => fail(opts.list!));
    files.push(
      ...text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean),
    );
  }
  if (files.length === 0) program.error('give image files, or --list FILE with one path per line');

  const engine = await loadEngine(loadConfig().recognition);
  let failed = 0;
  for (const file of files) {
    try {
      const { width, height, faces } = await engine.analyze(await readFile(file), Infinity);
      const line = {
        file,
        width,
        height,
        faces: faces.map((f) => ({
          box: [f.box.x1, f.box.y1, f.box.x2, f.box.y2].map((v) => Math.round(v * 10) / 10),
          score: Math.round(f.score * 1000) / 1000,
          embedding: Array.from(f.embedding, (v) => Number(v.toPrecision(7))),
        })),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    } catch (err) {
      failed++;
      process.stdout.write(`${JSON.stringify({ file, error: (err as Error).message })}\n`);
    }
  }
  await engine.close();
  process.exitCode = failed > 0 ? 1 : 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function fail(path: string): never {
  console.error(`embed: cannot read the list ${path}`);
  process.exit(2);
}

await main();
