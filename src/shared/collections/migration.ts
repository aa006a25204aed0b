/**
 * The gallery before collections: one JSON document, `gallery.json`, with every face's embedding in base64.
 * At first start it is moved into the `default` collection, once: its faces become one segment, then the
 * document is kept as `legacy/gallery.json` and removed from where it was. Each step can be repeated, so a
 * crash between two of them is finished by the next start, never done twice.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { isNotFound } from '../aws/clients.js';
import { decodeVector, EMBEDDING_DIMENSIONS } from './names-and-faces.js';
import type { Logger } from '../logger.js';
import { DEFAULT_COLLECTION } from './manifest.js';
import type { CollectionRepository } from './repository.js';

export const LEGACY_GALLERY_KEY = 'gallery.json';
export const MIGRATED_GALLERY_KEY = 'legacy/gallery.json';

const legacyGallerySchema = z.object({
  schemaVersion: z.literal(2),
  version: z.number().int().nonnegative(),
  embedderSha256: z.string(),
  dimensions: z.literal(EMBEDDING_DIMENSIONS),
  people: z.array(
    z.object({
      name: z.string().min(1),
      faces: z.array(
        z.object({
          id: z.string().regex(/^[0-9a-f]{16}$/),
          embedding: z.string(),
          addedAt: z.string(),
          sourceKey: z.string().optional(),
        }),
      ),
    }),
  ),
});

export interface MigrationOutcome {
  readonly migrated: boolean;
  readonly faces: number;
  readonly people: number;
}

/**
 * Moves `gallery.json` into the default collection if it is there; nothing when it is not. A document made with
 * another embedder is set aside unmigrated (its vectors would not compare), and said so.
 */
export async function migrateGalleryDocument(options: {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly collections: CollectionRepository;
  readonly embedderSha256: string;
  readonly logger: Logger;
}): Promise<MigrationOutcome> {
  let text: string;
  try {
    const object = await options.s3.send(new GetObjectCommand({ Bucket: options.bucket, Key: LEGACY_GALLERY_KEY }));
    text = await object.Body!.transformToString();
  } catch (err) {
    if (isNotFound(err)) return { migrated: false, faces: 0, people: 0 };
    throw err;
  }
  const parsed = legacyGallerySchema.safeParse(JSON.parse(text));
  let faces = 0;
  let people = 0;
  if (!parsed.success || parsed.data.embedderSha256 !== options.embedderSha256) {
    options.logger.warn(
      { kept: MIGRATED_GALLERY_KEY },
      'gallery.json is not a gallery of this embedder model; set aside unmigrated: enroll again',
    );
  } else if ((await options.collections.etag(DEFAULT_COLLECTION)) === undefined) {
    const add = parsed.data.people.flatMap((p) =>
      p.faces.map((f) => ({
        id: f.id,
        name: p.name,
        addedAt: f.addedAt,
        ...(f.sourceKey ? { sourceKey: f.sourceKey } : {}),
        embedding: decodeVector(f.embedding),
      })),
    );
    await options.collections.change(DEFAULT_COLLECTION, () => ({ add, result: {} }), { create: true });
    faces = add.length;
    people = parsed.data.people.length;
    options.logger.info({ faces, people, collection: DEFAULT_COLLECTION }, 'gallery.json moved into a collection');
  }
  await options.s3.send(
    new PutObjectCommand({
      Bucket: options.bucket,
      Key: MIGRATED_GALLERY_KEY,
      Body: text,
      ContentType: 'application/json',
    }),
  );
  await options.s3.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: LEGACY_GALLERY_KEY }));
  return { migrated: faces > 0, faces, people };
}
