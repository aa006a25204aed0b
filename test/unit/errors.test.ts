/** The error catalogue: typed parameters, and errors reported by another tier checked before they are told. */
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../../src/shared/wire/errors.js';
import { FORMAT_NAMES } from '../../src/shared/wire/image-formats.js';
import { readFile } from 'node:fs/promises';
import { ERRORS_SECTION } from '../../scripts/lib/errors-doc.js';
import { renderSection } from '../../scripts/lib/generated-section.js';

describe('AppError', () => {
  it('words each message from its declared parameters', () => {
    expect(new AppError('NOT_AN_IMAGE', { file: 'a.gif' }).message).toBe(
      `The uploaded file "a.gif" is not a ${FORMAT_NAMES} image.`,
    );
    expect(new AppError('FILE_TOO_LARGE', { limitBytes: 10 * 1024 * 1024 }).message).toContain('10 MiB');
    expect(new AppError('NO_FACE').message).toBe('No face was found in the image "upload".');
    const e = new AppError('METHOD_NOT_ALLOWED', { method: 'PUT', path: '/', allow: 'POST' });
    expect([e.status, e.retryable, e.params]).toEqual([405, false, { method: 'PUT', path: '/', allow: 'POST' }]);
  });

  it('checks at compile time that every parameter a message needs is given', () => {
    // @ts-expect-error: ENROLL_MANY_FACES needs `faces`.
    const missing = new AppError('ENROLL_MANY_FACES', { file: 'a.jpg' });
    expect(missing.message).toContain('undefined');
    // @ts-expect-error: a count is a number.
    void new AppError('GALLERY_BUSY', { attempts: 'five' });
  });

  it('never words a message with "undefined", whatever a code needs', () => {
    for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) {
      // The smallest parameters each code accepts: its schema's own defaults for optional fields.
      const sample = Object.fromEntries(
        Object.entries(
          (spec.params as unknown as { shape: Record<string, { safeParse(v: unknown): { success: boolean } }> }).shape,
        ).flatMap(([name, schema]) =>
          schema.safeParse(undefined).success ? [] : [[name, schema.safeParse('x').success ? 'x' : 1]],
        ),
      );
      const message = AppError.fromReport(code as ErrorCode, sample).message;
      expect(message, code).not.toMatch(/undefined|NaN|\[object/);
    }
  });

  describe('fromReport (a worker reported the error by code)', () => {
    it('keeps the code and the parameters it needs, and drops the others', () => {
      const e = AppError.fromReport('ENROLL_FACE_TOO_SMALL', { file: 'b.jpg', width: 21, min: 40, stray: 'x' });
      expect([e.code, e.status, e.params]).toEqual([
        'ENROLL_FACE_TOO_SMALL',
        422,
        { file: 'b.jpg', width: 21, min: 40 },
      ]);
      expect(e.message).toBe(
        'The face in "b.jpg" is 21 px wide, too small to recognise: enroll a photo in which it is at least 40 px wide.',
      );
    });

    it('turns parameters that do not fit into a 500, not a sentence with "undefined" in it', () => {
      const e = AppError.fromReport('RECOGNITION_FAILED', { file: 'c.jpg' });
      expect([e.code, e.status]).toEqual(['INTERNAL', 500]);
      expect(String((e.cause as Error).message)).toContain('RECOGNITION_FAILED');
    });
  });
});

describe('docs/api.md', () => {
  it('lists every error as the catalogue declares it (run "npm run docs:config" if this fails)', async () => {
    const current = await readFile(ERRORS_SECTION.doc, 'utf8');
    expect(current).toBe(await renderSection(ERRORS_SECTION, current));
    for (const code of Object.keys(ERROR_CATALOGUE)) expect(current).toContain(`\`${code}\``);
  });
});
