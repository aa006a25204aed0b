/**
 * Refuses uploads that are not images we can process, before anything reaches S3 or SQS: unknown formats by
 * their bytes (never by their name) and absurd declared sizes (a decompression bomb is never decoded). Only
 * the header is read, in microseconds and on this thread: a full decode here cost about 2 ms of the web
 * tier's CPU per request, on a machine whose cores the workers need. A file that is damaged past its header
 * fails the worker's decode instead and is answered with the same INVALID_IMAGE error.
 */
import { disableTypes, imageSize } from 'image-size';
import { AppError } from '../../shared/wire/errors.js';
import { IMAGE_FORMATS, type ImageFormat } from '../../shared/wire/image-formats.js';

/** The accepted formats by image-size's names for them. */
const FORMAT_BY_TYPE: ReadonlyMap<string, ImageFormat> = new Map(IMAGE_FORMATS.map((f) => [f.probedAs, f.format]));

// Probing only the formats we accept makes detection cheaper and turns every other format into "not an image".
disableTypes([
  'bmp',
  'cur',
  'dds',
  'gif',
  'heif',
  'icns',
  'ico',
  'j2c',
  'jp2',
  'jxl',
  'jxl-stream',
  'ktx',
  'pnm',
  'psd',
  'svg',
  'tga',
  'tiff',
] as const);

export interface CheckedImage {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
}

export function checkImage(bytes: Uint8Array, fileName: string, maxPixels: number): CheckedImage {
  if (bytes.length === 0) throw new AppError('EMPTY_FILE', { file: fileName });
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch (err) {
    throw new AppError('NOT_AN_IMAGE', { file: fileName }, err);
  }
  const format = size.type ? FORMAT_BY_TYPE.get(size.type) : undefined;
  if (!format || !size.width || !size.height) throw new AppError('NOT_AN_IMAGE', { file: fileName });
  if (size.width * size.height > maxPixels) {
    throw new AppError('IMAGE_TOO_LARGE', { width: size.width, height: size.height, limitPixels: maxPixels });
  }
  return { format, width: size.width, height: size.height };
}
