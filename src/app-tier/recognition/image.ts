/**
 * Decoding uploaded bytes into the RGB pixels the models read. EXIF orientation is applied, alpha dropped and
 * greyscale or CMYK input converted to sRGB, so every later stage sees three 8-bit channels.
 */
import sharp from 'sharp';
import type { RawImage } from './alignment.js';

/** Formats the service accepts; everything else is refused as unsupported. */
export const SUPPORTED_FORMATS = ['jpeg', 'png', 'webp'] as const;

export async function decodeRgb(bytes: Uint8Array, maxPixels: number): Promise<RawImage> {
  const { data, info } = await sharp(bytes, { failOn: 'truncated', limitInputPixels: maxPixels })
    .rotate()
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}
