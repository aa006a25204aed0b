/**
 * The gallery in a worker's memory, and the match against it: the nearest enrolled people by cosine
 * similarity, and the decision between a name and "Unknown". Pure: no I/O here.
 */
import { decodeVector, EMBEDDING_DIMENSIONS, UNKNOWN_LABEL, type StoredGallery } from '../../shared/gallery.js';

export interface Candidate {
  readonly name: string;
  /** Cosine similarity of this person's most similar enrolled face, −1..1. */
  readonly similarity: number;
}

export interface Identification {
  /** The best candidate's name, or "Unknown" when it is below the threshold. */
  readonly label: string;
  /** The best candidate's similarity, whether or not it passed. */
  readonly similarity: number;
  /** The most similar people, best first. */
  readonly candidates: readonly Candidate[];
}

/** One row of `vectors` per enrolled face, `labels[i]` naming its person. */
export class Gallery {
  private constructor(
    readonly version: number,
    private readonly labels: readonly string[],
    private readonly vectors: Float32Array,
  ) {}

  static fromStored(stored: StoredGallery): Gallery {
    const labels = stored.people.flatMap((p) => p.faces.map(() => p.name));
    const vectors = new Float32Array(labels.length * EMBEDDING_DIMENSIONS);
    let row = 0;
    for (const person of stored.people) {
      for (const face of person.faces) vectors.set(decodeVector(face.embedding), row++ * EMBEDDING_DIMENSIONS);
    }
    return new Gallery(stored.version, labels, vectors);
  }

  /** Enrolled faces. */
  get size(): number {
    return this.labels.length;
  }

  get people(): number {
    return new Set(this.labels).size;
  }

  /** The `k` most similar people, each scored by their most similar face (vectors are unit length). */
  search(embedding: Float32Array, k: number): Candidate[] {
    const best = new Map<string, number>();
    for (let row = 0; row < this.labels.length; row++) {
      let dot = 0;
      const base = row * EMBEDDING_DIMENSIONS;
      for (let i = 0; i < EMBEDDING_DIMENSIONS; i++) dot += this.vectors[base + i]! * embedding[i]!;
      const name = this.labels[row]!;
      if (dot > (best.get(name) ?? -Infinity)) best.set(name, dot);
    }
    return [...best]
      .map(([name, similarity]) => ({ name, similarity }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, k);
  }
}

/**
 * Names the face after the best candidate when its similarity reaches `threshold`, "Unknown" otherwise;
 * with no threshold (MATCH_THRESHOLD=off) always after the best candidate, as the course expects.
 */
export function identify(candidates: readonly Candidate[], threshold: number | undefined): Identification {
  const best = candidates[0];
  if (!best) return { label: UNKNOWN_LABEL, similarity: -1, candidates };
  const known = threshold === undefined || best.similarity >= threshold;
  return { label: known ? best.name : UNKNOWN_LABEL, similarity: best.similarity, candidates };
}
