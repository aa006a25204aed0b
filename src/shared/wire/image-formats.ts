/**
 * The image formats the service accepts, declared once: what the web tier's header check recognises, what
 * the recognition engine decodes, which file names the command-line tools pick up, and how messages name them.
 */

/**
 * `format`: sharp's name, and the Content-Type's subtype; `name`: for people; `extensions`: what the tools
 * pick up in a folder; `probedAs`: image-size's name, as the web tier's header check reports it.
 */
export const IMAGE_FORMATS = [
  { format: 'jpeg', name: 'JPEG', extensions: ['.jpg', '.jpeg'], probedAs: 'jpg' },
  { format: 'png', name: 'PNG', extensions: ['.png'], probedAs: 'png' },
  { format: 'webp', name: 'WebP', extensions: ['.webp'], probedAs: 'webp' },
] as const;

/** sharp's (and the Content-Type's) names of the accepted formats. */
export type ImageFormat = (typeof IMAGE_FORMATS)[number]['format'];

/** File extensions the command-line tools read as images, lower case with the dot. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(IMAGE_FORMATS.flatMap((f) => f.extensions));

/** "JPEG, PNG or WebP", for sentences. */
export const FORMAT_NAMES = orList(IMAGE_FORMATS.map((f) => f.name));
/** ".jpg, .jpeg, .png or .webp", for sentences. */
export const EXTENSION_NAMES = orList([...IMAGE_EXTENSIONS]);

function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}
