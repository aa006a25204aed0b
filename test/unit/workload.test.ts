/** The workload generator's pure parts: picking images, reading labels, percentiles, the multipart body. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeMultipart, loadLabels, pickImages, summarizeLatencies, UsageError } from '../../scripts/lib/workload.js';
import { newScratchDir } from '../helpers/data-dirs.js';

async function folderWith(files: string[]): Promise<string> {
  const dir = newScratchDir('facefleet-workload-');
  for (const f of files) await writeFile(join(dir, f), 'x');
  return dir;
}

describe('pickImages', () => {
  it('takes the first N by name, images only, and every image by default', async () => {
    const dir = await folderWith(['b.jpg', 'a.png', 'notes.txt', 'c.WEBP', 'd.jpeg']);
    expect(await pickImages(dir, 2, 'first', 1)).toEqual(['a.png', 'b.jpg']);
    expect(await pickImages(dir, undefined, 'first', 1)).toEqual(['a.png', 'b.jpg', 'c.WEBP', 'd.jpeg']);
  });

  it('goes round the folder again when N exceeds it', async () => {
    const dir = await folderWith(['a.jpg', 'b.jpg']);
    expect(await pickImages(dir, 5, 'first', 1)).toEqual(['a.jpg', 'b.jpg', 'a.jpg', 'b.jpg', 'a.jpg']);
  });

  it('samples at random, the same for the same seed and without repeats within a round', async () => {
    const files = Array.from({ length: 50 }, (_, i) => `img_${String(i).padStart(2, '0')}.jpg`);
    const dir = await folderWith(files);
    const a = await pickImages(dir, 10, 'random', 7);
    expect(await pickImages(dir, 10, 'random', 7)).toEqual(a);
    expect(await pickImages(dir, 10, 'random', 8)).not.toEqual(a);
    expect(new Set(a).size).toBe(10);
    expect(a).not.toEqual(files.slice(0, 10));
    const twoRounds = await pickImages(dir, 100, 'random', 7);
    expect(new Set(twoRounds.slice(0, 50)).size).toBe(50);
    expect(new Set(twoRounds.slice(50)).size).toBe(50);
  });

  it('refuses a missing folder, a file, and a folder without images', async () => {
    const dir = await folderWith(['notes.txt']);
    await expect(pickImages(join(dir, 'nope'), 1, 'first', 1)).rejects.toThrow(/cannot read the image folder/);
    await expect(pickImages(join(dir, 'notes.txt'), 1, 'first', 1)).rejects.toThrow(/is not a folder/);
    await expect(pickImages(dir, 1, 'first', 1)).rejects.toThrow(UsageError);
    await expect(pickImages(dir, 1, 'first', 1)).rejects.toThrow(/holds no .jpg/);
  });
});

describe('loadLabels', () => {
  it('keys labels by file stem, whether or not the CSV writes the extension', async () => {
    const dir = await folderWith([]);
    await writeFile(join(dir, 'l.csv'), '\ufeffImage,Results\ntest_00,Paul\ntest_01.jpg,Emily\n');
    expect(await loadLabels(join(dir, 'l.csv'))).toEqual(
      new Map([
        ['test_00', 'Paul'],
        ['test_01', 'Emily'],
      ]),
    );
  });

  it('names the missing columns', async () => {
    const dir = await folderWith([]);
    await writeFile(join(dir, 'l.csv'), 'file,name\na,b\n');
    await expect(loadLabels(join(dir, 'l.csv'))).rejects.toThrow(
      /must have the columns Image and Results \(found: file, name\)/,
    );
    await expect(loadLabels(join(dir, 'missing.csv'))).rejects.toThrow(/cannot read the labels CSV/);
  });
});

describe('summarizeLatencies', () => {
  it.each([
    [[], { p50: 0, p90: 0, p99: 0, max: 0 }],
    [[5], { p50: 5, p90: 5, p99: 5, max: 5 }],
    [Array.from({ length: 100 }, (_, i) => 100 - i), { p50: 50, p90: 90, p99: 99, max: 100 }],
    [[1.26, 3, 2], { p50: 2, p90: 3, p99: 3, max: 3 }],
  ])('%j → %j (nearest rank)', (samples, expected) => {
    expect(summarizeLatencies(samples)).toEqual(expected);
  });
});

describe('encodeMultipart', () => {
  it('writes one inputFile part with the file name and no part Content-Type, as the course client does', async () => {
    const { body, contentType } = encodeMultipart('test_00.jpg', Buffer.from('JPEGBYTES'));
    const boundary = contentType.replace('multipart/form-data; boundary=', '');
    expect(body.toString()).toBe(
      `--${boundary}\r\nContent-Disposition: form-data; name="inputFile"; filename="test_00.jpg"\r\n\r\n` +
        `JPEGBYTES\r\n--${boundary}--\r\n`,
    );
    // The same bytes parse as a form with the platform's own multipart parser.
    const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    const file = form.get('inputFile') as File;
    expect([file.name, await file.text()]).toEqual(['test_00.jpg', 'JPEGBYTES']);
  });
});
