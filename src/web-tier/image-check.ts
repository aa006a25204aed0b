/**
 * Refuses uploads that are not images we can process, before anything reaches S3 or SQS: unknown formats
 * by their bytes (never by their name), absurd declared sizes from the header alone (a decompression bomb is
 * never decoded), and damaged or truncated files by a cheap shrink-on-load decode.
 */
import sharp, { type Metadata } from 'sharp';
import { SUPPORTED_FORMATS } from '../app-tier/recognition/image.js';
import { AppError } from '../shared/errors.js';

/** Side of the thumbnail decoded to prove the whole file is readable; JPEG decodes it at 1/8 scale. */
const PROBE_SIZE = 32;

export interface CheckedImage {
  readonly format: (typeof SUPPORTED_FORMATS)[number];
  readonly width: number;
  readonly height: number;
}

export async function checkImage(bytes: Buffer, fileName: string, maxPixels: number): Promise<CheckedImage> {
  if (bytes.length === 0) throw new AppError('EMPTY_FILE', { file: fileName });
  let meta: Metadata;
  try {
    // Reading the header decodes no pixels, so sharp's own pixel limit is lifted here to report ours below.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new AppError('NOT_AN_IMAGE', { file: fileName }, err);
  }
  const format = SUPPORTED_FORMATS.find((f) => f === meta.format);
  if (!format || !meta.width || !meta.height) throw new AppError('NOT_AN_IMAGE', { file: fileName });
  if (meta.width * meta.height > maxPixels) {
    throw new AppError('IMAGE_TOO_LARGE', { width: meta.width, height: meta.height, limitPixels: maxPixels });
  }
  try {
    await sharp(bytes, { failOn: 'truncated', limitInputPixels: maxPixels })
      .resize(PROBE_SIZE, PROBE_SIZE, { fit: 'inside' })
      .raw()
      .toBuffer();
  } catch (err) {
    throw new AppError('INVALID_IMAGE', { file: fileName }, err);
  }
  return { format, width: meta.width, height: meta.height };
}
