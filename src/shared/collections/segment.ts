/**
 * A segment's objects in the gallery bucket, under `collections/<name>/`: `<id>.json` says who (each face's id,
 * person, when it was added, where its photo is kept) or, for a tombstone segment, which face ids are removed;
 * a faces segment's vectors are in `<id>.vec` (vectors.ts), row for row. The web tier reads only the JSON; a
 * worker reads both. Pure: no I/O here.
 */
import { z } from 'zod';

export const COLLECTIONS_PREFIX = 'collections/';

const faceMetaSchema = z.object({
  /** First 16 hex digits of the sha256 of the enrolled image: enrolling the same photo twice is a no-op. */
  id: z.string().regex(/^[0-9a-f]{16}$/),
  name: z.string().min(1),
  addedAt: z.string(),
  /** Where the enrolled image was kept (an in-bucket key), deleted with the face; absent for CLI enrollment. */
  sourceKey: z.string().optional(),
});
export type FaceMeta = z.infer<typeof faceMetaSchema>;

export const segmentMetaSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('faces'), faces: z.array(faceMetaSchema) }),
  z.object({ kind: z.literal('tombstones'), faceIds: z.array(z.string()) }),
]);
export type SegmentMeta = z.infer<typeof segmentMetaSchema>;

export const collectionKeys = (collection: string) => {
  const base = `${COLLECTIONS_PREFIX}${collection}/`;
  return {
    base,
    manifest: `${base}manifest.json`,
    meta: (entryId: string) => `${base}segments/${entryId}.json`,
    vectors: (entryId: string) => `${base}segments/${entryId}.vec`,
  };
};
