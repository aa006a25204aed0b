/**
 * A collection in a worker's memory, and the match against it: the nearest enrolled people by cosine
 * similarity, and the decision between a name and "Unknown". Faces arrive as segments (int8 vectors, see
 * shared/collections/vectors.ts) and leave by tombstone. While the collection is small every face is compared
 * (exact); from `indexMinFaces` on, an HNSW index (usearch, int8, cosine) finds the nearest faces instead, and
 * the vectors live only in it. Identification stays by person: the best face of each person, then the
 * threshold.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Index, MetricKind, ScalarKind } from 'usearch';
import { EMBEDDING_DIMENSIONS, UNKNOWN_LABEL } from '../../shared/collections/names-and-faces.js';
import type { SnapshotRows } from '../../shared/collections/index-snapshots.js';
import type { QuantizedVectors } from '../../shared/collections/vectors.js';

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

export interface MatcherOptions {
  /** From this many faces on, search with the index instead of comparing every face. */
  readonly indexMinFaces: number;
  /** Threads that build the index (one per core the process may use). */
  readonly indexThreads?: number;
}

/**
 * HNSW settings, chosen by `npm run bench:gallery` on random unit vectors (the hardest case for a graph: no
 * clusters): 32 links a node and a search list of 128 find the exact nearest face for ≥ 99.5 % of probes.
 */
const CONNECTIVITY = 32;
const EXPANSION_ADD = 64;
const EXPANSION_SEARCH = 128;
/** Faces the index returns per query, grouped into people: enough for the top 3 people almost always. */
const NEAREST_FACES = 64;
/** Rows added to the index between two turns of the event loop, so a worker keeps its heartbeats. */
const ADD_CHUNK = 4096;

export class FaceMatcher {
  private readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();
  private personFaces: Int32Array = new Int32Array(64);
  private rowPerson: Int32Array = new Int32Array(1024);
  /**
   * Each row's face id (16 hex digits) as a 64-bit number: 8 bytes a face, where a Map from id strings took
   * some 100 at a million faces. Removals scan it, which is fine for how rarely and how few faces go.
   */
  private faceIds = new BigUint64Array(1024);
  /** Exact mode only: the codes and each row's 1/|codes|; freed once the index holds the vectors. */
  private codes = new Int8Array(1024 * EMBEDDING_DIMENSIONS);
  private inverseNorms = new Float32Array(1024);
  private alive = new Uint8Array(1024);
  private rows = 0;
  private faceCount = 0;
  private peopleCount = 0;
  private index: Index | undefined;
  private readonly best: Float32Array[] = [new Float32Array(64)];
  /** The collection version this matcher holds. */
  version = 0;

  constructor(private readonly options: MatcherOptions) {}

  get size(): number {
    return this.faceCount;
  }

  get people(): number {
    return this.peopleCount;
  }

  get indexed(): boolean {
    return this.index !== undefined;
  }

  /**
   * Adds a segment's faces, row for row with `vectors`. A face id is in a collection once (the rules refuse a
   * photo under a second name, and a face added again comes after the tombstone that removed it).
   */
  async add(faces: readonly { id: string; name: string }[], vectors: QuantizedVectors): Promise<void> {
    const first = this.rows;
    this.grow(this.rows + faces.length);
    faces.forEach((face, i) => {
      const row = first + i;
      let person = this.nameIndex.get(face.name);
      if (person === undefined) {
        person = this.names.length;
        this.names.push(face.name);
        this.nameIndex.set(face.name, person);
        if (person >= this.personFaces.length) this.personFaces = growInt32(this.personFaces, person + 1);
      }
      if (this.personFaces[person]!++ === 0) this.peopleCount++;
      this.rowPerson[row] = person;
      this.faceIds[row] = idNumber(face.id);
      this.alive[row] = 1;
    });
    this.rows += faces.length;
    this.faceCount += faces.length;
    if (this.index) {
      await this.addToIndex(first, vectors.codes, faces.length);
      return;
    }
    for (let i = 0; i < faces.length; i++) {
      const src = vectors.codes.subarray(i * EMBEDDING_DIMENSIONS, (i + 1) * EMBEDDING_DIMENSIONS);
      this.codes.set(src, (first + i) * EMBEDDING_DIMENSIONS);
      let norm = 0;
      for (let d = 0; d < EMBEDDING_DIMENSIONS; d++) norm += src[d]! * src[d]!;
      this.inverseNorms[first + i] = norm === 0 ? 0 : 1 / Math.sqrt(norm);
    }
    if (this.faceCount >= this.options.indexMinFaces) await this.buildIndex();
  }

  /** Removes faces by id; ids it does not hold are ignored. */
  remove(faceIds: readonly string[]): void {
    if (faceIds.length === 0) return;
    // An id that is no face id is no face here either.
    const wanted = new Set(faceIds.filter((id) => /^[0-9a-f]{16}$/.test(id)).map(idNumber));
    const gone: bigint[] = [];
    for (let row = 0; row < this.rows && gone.length < wanted.size; row++) {
      if (this.alive[row] === 0 || !wanted.has(this.faceIds[row]!)) continue;
      this.alive[row] = 0;
      this.faceCount--;
      const person = this.rowPerson[row]!;
      if (--this.personFaces[person]! === 0) this.peopleCount--;
      gone.push(BigInt(row));
    }
    if (this.index && gone.length > 0) this.index.remove(gone);
  }

  /** The `k` most similar people, each scored by their most similar face (vectors are unit length). */
  search(embedding: Float32Array, k: number): Candidate[] {
    return this.index ? this.searchIndex(embedding, k) : this.searchExact(embedding, k);
  }

  /** Bytes this matcher holds, roughly: rows, and the vectors in the arrays or the index. */
  get memoryBytes(): number {
    const perRow = 4 + 1 + 8; // person, alive, face id
    const vectors = this.index
      ? Number(this.index.size()) * (EMBEDDING_DIMENSIONS + CONNECTIVITY * 2 * 4)
      : this.codes.byteLength + this.inverseNorms.byteLength;
    return this.rows * perRow + vectors;
  }

  private searchExact(embedding: Float32Array, k: number): Candidate[] {
    const best = this.bestScratch();
    best.fill(-Infinity, 0, this.names.length);
    const codes = this.codes;
    for (let row = 0; row < this.rows; row++) {
      if (this.alive[row] === 0) continue;
      const base = row * EMBEDDING_DIMENSIONS;
      let dot = 0;
      for (let i = 0; i < EMBEDDING_DIMENSIONS; i += 4) {
        dot +=
          codes[base + i]! * embedding[i]! +
          codes[base + i + 1]! * embedding[i + 1]! +
          codes[base + i + 2]! * embedding[i + 2]! +
          codes[base + i + 3]! * embedding[i + 3]!;
      }
      const similarity = dot * this.inverseNorms[row]!;
      const person = this.rowPerson[row]!;
      if (similarity > best[person]!) best[person] = similarity;
    }
    const found: Candidate[] = [];
    for (let p = 0; p < this.names.length; p++) {
      if (best[p] !== -Infinity) found.push({ name: this.names[p]!, similarity: best[p]! });
    }
    return found.sort((a, b) => b.similarity - a.similarity).slice(0, k);
  }

  private searchIndex(embedding: Float32Array, k: number): Candidate[] {
    const count = Math.min(NEAREST_FACES, this.faceCount);
    if (count === 0) return [];
    const matches = this.index!.search(quantizeQuery(embedding), count, 1);
    const byPerson = new Map<number, number>();
    for (let i = 0; i < matches.keys.length; i++) {
      const row = Number(matches.keys[i]);
      if (row >= this.rows || this.alive[row] === 0) continue;
      const person = this.rowPerson[row]!;
      const similarity = 1 - matches.distances[i]!;
      if (similarity > (byPerson.get(person) ?? -Infinity)) byPerson.set(person, similarity);
    }
    return [...byPerson]
      .map(([p, similarity]) => ({ name: this.names[p]!, similarity }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, k);
  }

  private async buildIndex(): Promise<void> {
    const index = this.newIndex();
    const codes = this.codes;
    // Rows removed before the index was built are left out of it; searches use the exact scan until it is whole.
    const live = [...Array(this.rows).keys()].filter((r) => this.alive[r] === 1);
    for (let i = 0; i < live.length; i += ADD_CHUNK) {
      const rows = live.slice(i, i + ADD_CHUNK);
      const chunk = new Int8Array(rows.length * EMBEDDING_DIMENSIONS);
      rows.forEach((r, j) =>
        chunk.set(codes.subarray(r * EMBEDDING_DIMENSIONS, (r + 1) * EMBEDDING_DIMENSIONS), j * EMBEDDING_DIMENSIONS),
      );
      index.add(
        BigUint64Array.from(rows, (r) => BigInt(r)),
        chunk,
        this.options.indexThreads ?? 1,
      );
      await yieldToEventLoop();
    }
    this.index = index;
    const removedMeanwhile = live.filter((r) => this.alive[r] === 0).map((r) => BigInt(r));
    if (removedMeanwhile.length > 0) index.remove(removedMeanwhile);
    this.codes = new Int8Array(0);
    this.inverseNorms = new Float32Array(0);
  }

  private async addToIndex(first: number, codes: Int8Array, count: number): Promise<void> {
    for (let i = 0; i < count; i += ADD_CHUNK) {
      const n = Math.min(ADD_CHUNK, count - i);
      const keys = BigUint64Array.from({ length: n }, (_, j) => BigInt(first + i + j));
      this.index!.add(
        keys,
        // A copy that starts its own buffer: usearch's exact search was seen to read a view from its buffer's
        // start, and an add is cheap to copy for next to what inserting costs.
        codes.slice(i * EMBEDDING_DIMENSIONS, (i + n) * EMBEDDING_DIMENSIONS),
        this.options.indexThreads ?? 1,
      );
      if (i + n < count) await yieldToEventLoop();
    }
  }

  /**
   * Writes the index to `indexPath` and returns the rows that go with it: another worker restores the same
   * matcher from them in seconds instead of building the index anew. Only an indexed matcher has a snapshot.
   */
  saveSnapshot(indexPath: string): SnapshotRows {
    if (!this.index) throw new Error('only an indexed matcher is saved');
    this.index.save(indexPath);
    const ids = Array.from({ length: this.rows }, (_, row) =>
      this.alive[row] === 1 ? this.faceIds[row]!.toString(16).padStart(16, '0') : '',
    );
    const person = this.rowPerson.slice(0, this.rows);
    return {
      v: 1,
      names: [...this.names],
      rowPerson: Buffer.from(person.buffer, person.byteOffset, person.byteLength).toString('base64'),
      ids,
    };
  }

  /** The matcher a snapshot holds: its rows, and its index loaded from `indexPath`. */
  static restoreSnapshot(options: MatcherOptions, rows: SnapshotRows, indexPath: string): FaceMatcher {
    const matcher = new FaceMatcher(options);
    const bytes = Buffer.from(rows.rowPerson, 'base64');
    const person = new Int32Array(bytes.byteLength / 4);
    new Uint8Array(person.buffer).set(bytes);
    if (person.length !== rows.ids.length) throw new RangeError('a snapshot whose rows do not match its ids');
    // Room for the rows, and none for codes: the index holds the vectors.
    matcher.codes = new Int8Array(0);
    matcher.inverseNorms = new Float32Array(0);
    matcher.rowPerson = new Int32Array(Math.max(1024, rows.ids.length));
    matcher.alive = new Uint8Array(matcher.rowPerson.length);
    matcher.faceIds = new BigUint64Array(matcher.rowPerson.length);
    matcher.rowPerson.set(person);
    for (const name of rows.names) {
      matcher.nameIndex.set(name, matcher.names.length);
      matcher.names.push(name);
    }
    matcher.personFaces = new Int32Array(Math.max(64, rows.names.length));
    rows.ids.forEach((id, row) => {
      if (!id) return;
      matcher.faceIds[row] = idNumber(id);
      matcher.alive[row] = 1;
      if (matcher.personFaces[person[row]!]!++ === 0) matcher.peopleCount++;
      matcher.faceCount++;
    });
    matcher.rows = rows.ids.length;
    const index = matcher.newIndex();
    index.load(indexPath);
    matcher.index = index;
    return matcher;
  }

  private newIndex(): Index {
    return new Index({
      dimensions: EMBEDDING_DIMENSIONS,
      metric: MetricKind.Cos,
      quantization: ScalarKind.I8,
      connectivity: CONNECTIVITY,
      expansion_add: EXPANSION_ADD,
      expansion_search: EXPANSION_SEARCH,
      multi: false,
    });
  }

  private grow(rows: number): void {
    if (rows <= this.rowPerson.length) return;
    const capacity = Math.max(rows, this.rowPerson.length * 2);
    this.rowPerson = growInt32(this.rowPerson, capacity);
    const alive = new Uint8Array(capacity);
    alive.set(this.alive);
    this.alive = alive;
    const ids = new BigUint64Array(capacity);
    ids.set(this.faceIds);
    this.faceIds = ids;
    if (!this.index) {
      const codes = new Int8Array(capacity * EMBEDDING_DIMENSIONS);
      codes.set(this.codes);
      this.codes = codes;
      const norms = new Float32Array(capacity);
      norms.set(this.inverseNorms);
      this.inverseNorms = norms;
    }
  }

  private bestScratch(): Float32Array {
    if (this.best[0]!.length < this.names.length) this.best[0] = new Float32Array(this.names.length * 2);
    return this.best[0]!;
  }
}

/** A query as the index takes it: int8 scaled by its largest component (cosine ignores the scale). */
function quantizeQuery(v: Float32Array): Int8Array {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]!));
  const out = new Int8Array(v.length);
  if (max === 0) return out;
  for (let i = 0; i < v.length; i++) out[i] = Math.round((v[i]! / max) * 127);
  return out;
}

/** A face id's 16 hex digits as the number they are (ids are checked where segments are read). */
function idNumber(id: string): bigint {
  if (!/^[0-9a-f]{16}$/.test(id)) throw new RangeError(`"${id}" is not a face id`);
  return BigInt(`0x${id}`);
}

function growInt32(a: Int32Array, size: number): Int32Array {
  const grown = new Int32Array(Math.max(size, a.length * 2));
  grown.set(a);
  return grown;
}

/** Up to this many people, `auto` is the base threshold. */
const AUTO_THRESHOLD_FROM_PEOPLE = 1_000;
/**
 * How much `auto` rises for every tenfold more people. Each stranger is compared with every person, so the
 * chance that one of them passes a fixed threshold grows with the collection: on LFW with synthetic
 * distractors (`npm run bench:open-set`), 0.45 takes 1.6 % of strangers for someone with 1,000 people
 * enrolled and 8.5 % with 100,000. This step holds that near where it was at 1,000, for a few more misses.
 */
const AUTO_THRESHOLD_STEP = 0.02;
const AUTO_THRESHOLD_MAX = 0.6;

/** The threshold for a collection of `people`: the configured one, or with `auto` one that rises with size. */
export function matchThresholdFor(
  matching: { readonly threshold: number | undefined; readonly grows: boolean },
  people: number,
): number | undefined {
  if (matching.threshold === undefined || !matching.grows || people <= AUTO_THRESHOLD_FROM_PEOPLE) {
    return matching.threshold;
  }
  const raised = matching.threshold + AUTO_THRESHOLD_STEP * Math.log10(people / AUTO_THRESHOLD_FROM_PEOPLE);
  return Math.round(Math.min(AUTO_THRESHOLD_MAX, raised) * 1000) / 1000;
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
