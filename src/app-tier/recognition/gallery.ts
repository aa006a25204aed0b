/**
 * The gallery of enrolled people: its stored form (JSON, embeddings as base64 little-endian float32, checked
 * by a schema on load) and the nearest-neighbour match over it. Pure: no I/O here.
 */
import { z } from 'zod';
import { EMBEDDING_DIMENSIONS } from './embedder.js';

export const GALLERY_SCHEMA_VERSION = 1;

const storedGallerySchema = z.object({
  schemaVersion: z.literal(GALLERY_SCHEMA_VERSION),
  /** sha256 of the embedder model that produced the vectors: vectors from another model do not compare. */
  embedderSha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
  dimensions: z.literal(EMBEDDING_DIMENSIONS),
  people: z.array(
    z.object({
      name: z.string().min(1),
      embeddings: z.array(z.string()).min(1),
    }),
  ),
});
export type StoredGallery = z.infer<typeof storedGallerySchema>;

export interface Match {
  readonly label: string;
  /** Cosine similarity of the best gallery vector, −1..1. */
  readonly similarity: number;
}

/** An in-memory gallery: one row of `vectors` per enrolled face, `labels[i]` naming its person. */
export class Gallery {
  private constructor(
    readonly labels: readonly string[],
    private readonly vectors: Float32Array,
    readonly embedderSha256: string,
  ) {}

  static fromPeople(people: ReadonlyMap<string, readonly Float32Array[]>, embedderSha256: string): Gallery {
    const labels: string[] = [];
    const rows: Float32Array[] = [];
    for (const [name, vectors] of people) {
      for (const v of vectors) {
        if (v.length !== EMBEDDING_DIMENSIONS) {
          throw new RangeError(`embedding for ${name} has ${v.length} values, expected ${EMBEDDING_DIMENSIONS}`);
        }
        labels.push(name);
        rows.push(v);
      }
    }
    const vectors = new Float32Array(rows.length * EMBEDDING_DIMENSIONS);
    rows.forEach((r, i) => vectors.set(r, i * EMBEDDING_DIMENSIONS));
    return new Gallery(labels, vectors, embedderSha256);
  }

  /** Parses and validates a stored gallery; throws a `ZodError` or `RangeError` naming what is wrong. */
  static parse(json: unknown): Gallery {
    const stored = storedGallerySchema.parse(json);
    const people = new Map<string, Float32Array[]>();
    for (const person of stored.people) {
      people.set(person.name, person.embeddings.map(decodeVector));
    }
    return Gallery.fromPeople(people, stored.embedderSha256);
  }

  get size(): number {
    return this.labels.length;
  }

  get people(): string[] {
    return [...new Set(this.labels)];
  }

  /** Each person with their enrolled vectors, in enrollment order. */
  entries(): Map<string, Float32Array[]> {
    const people = new Map<string, Float32Array[]>();
    this.labels.forEach((label, row) => {
      const vector = this.vectors.slice(row * EMBEDDING_DIMENSIONS, (row + 1) * EMBEDDING_DIMENSIONS);
      people.set(label, [...(people.get(label) ?? []), vector]);
    });
    return people;
  }

  /** The nearest enrolled face by cosine similarity (vectors are unit length), or undefined when empty. */
  match(embedding: Float32Array): Match | undefined {
    let best = -1;
    let bestSimilarity = -Infinity;
    for (let row = 0; row < this.labels.length; row++) {
      let dot = 0;
      const base = row * EMBEDDING_DIMENSIONS;
      for (let i = 0; i < EMBEDDING_DIMENSIONS; i++) dot += this.vectors[base + i]! * embedding[i]!;
      if (dot > bestSimilarity) {
        bestSimilarity = dot;
        best = row;
      }
    }
    return best < 0 ? undefined : { label: this.labels[best]!, similarity: bestSimilarity };
  }

  toStored(now: Date = new Date()): StoredGallery {
    return {
      schemaVersion: GALLERY_SCHEMA_VERSION,
      embedderSha256: this.embedderSha256,
      createdAt: now.toISOString(),
      dimensions: EMBEDDING_DIMENSIONS,
      people: [...this.entries()].map(([name, vectors]) => ({ name, embeddings: vectors.map(encodeVector) })),
    };
  }
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
