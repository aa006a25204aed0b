/**
 * Who is enrolled in a collection, without their vectors: what the web tier needs to apply the enrollment
 * rules (a name that reads as another is refused, a photo belongs to one person), to list people page by page,
 * and to know which photos are used. Built by applying the manifest's segments in order. Pure: no I/O here.
 */
import { AppError } from '../wire/errors.js';
import { nameKey, printable, type NewFace } from './names-and-faces.js';
import type { FaceMeta, SegmentMeta } from './segment.js';

export class CollectionView {
  private readonly people = new Map<string, Map<string, FaceMeta>>();
  private readonly owners = new Map<string, string>();
  private readonly keys = new Map<string, string>();
  private sorted: string[] | undefined;
  private faceCount = 0;

  get faces(): number {
    return this.faceCount;
  }

  get peopleCount(): number {
    return this.people.size;
  }

  /** Applies one segment, as the manifest orders them. */
  apply(segment: SegmentMeta): void {
    if (segment.kind === 'faces') for (const face of segment.faces) this.add(face);
    else for (const id of segment.faceIds) this.remove(id);
  }

  private add(face: FaceMeta): void {
    const owner = this.owners.get(face.id);
    if (owner !== undefined) this.remove(face.id);
    let faces = this.people.get(face.name);
    if (!faces) {
      faces = new Map();
      this.people.set(face.name, faces);
      this.keys.set(nameKey(face.name), face.name);
      this.sorted = undefined;
    }
    faces.set(face.id, face);
    this.owners.set(face.id, face.name);
    this.faceCount++;
  }

  private remove(faceId: string): void {
    const name = this.owners.get(faceId);
    if (name === undefined) return;
    const faces = this.people.get(name)!;
    faces.delete(faceId);
    this.owners.delete(faceId);
    this.faceCount--;
    if (faces.size === 0) {
      this.people.delete(name);
      this.keys.delete(nameKey(name));
      this.sorted = undefined;
    }
  }

  /** A person's faces; throws PERSON_NOT_FOUND. */
  person(name: string): FaceMeta[] {
    const faces = this.people.get(name);
    if (!faces) throw new AppError('PERSON_NOT_FOUND', { name });
    return [...faces.values()];
  }

  has(name: string): boolean {
    return this.people.has(name);
  }

  /** The enrolled name that `name` reads as (nameKey), if any. */
  readsAs(name: string): string | undefined {
    return this.keys.get(nameKey(name));
  }

  /** Every face's photo key: the photos in use. */
  *sourceKeys(): Generator<string> {
    for (const faces of this.people.values()) for (const f of faces.values()) if (f.sourceKey) yield f.sourceKey;
  }

  /** People in name order, from the first name after `after`, at most `limit`. */
  page(options: { after?: string; limit: number }): { people: { name: string; faces: number }[]; next?: string } {
    this.sorted ??= [...this.people.keys()].sort(compareNames);
    const sorted = this.sorted;
    let lo = 0;
    if (options.after !== undefined) {
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareNames(sorted[mid]!, options.after) <= 0) lo = mid + 1;
        else hi = mid;
      }
    }
    const names = sorted.slice(lo, lo + options.limit);
    const people = names.map((name) => ({ name, faces: this.people.get(name)!.size }));
    return lo + options.limit < sorted.length ? { people, next: names.at(-1)! } : { people };
  }

  /**
   * The faces of `faces` to add for `name` (those it does not have yet, once each). Refused with CONFUSABLE_NAME
   * for a new name that reads as an enrolled one, and PHOTO_ENROLLED_ELSEWHERE for a photo that is already
   * someone else's.
   */
  planAdd(name: string, faces: readonly NewFace[]): NewFace[] {
    if (!this.people.has(name)) {
      const lookalike = this.keys.get(nameKey(name));
      if (lookalike !== undefined) throw new AppError('CONFUSABLE_NAME', { name, existing: lookalike });
    }
    for (const face of faces) {
      const owner = this.owners.get(face.id);
      if (owner !== undefined && owner !== name) {
        throw new AppError('PHOTO_ENROLLED_ELSEWHERE', { file: face.file ?? face.id, person: owner, id: face.id });
      }
    }
    const seen = new Set(this.people.get(name)?.keys());
    return faces.filter((f) => !seen.has(f.id) && seen.add(f.id) !== undefined);
  }

  /**
   * planAdd for several people at once, as `npm run enroll` sends them: the names and photos of the batch are
   * checked against each other as well as against the collection.
   */
  planAddMany(people: ReadonlyMap<string, readonly NewFace[]>): { name: string; faces: NewFace[] }[] {
    const batchKeys = new Map<string, string>();
    const batchOwners = new Map<string, string>();
    return [...people].map(([name, faces]) => {
      const key = nameKey(name);
      const other = batchKeys.get(key);
      if (other !== undefined && other !== name) throw new AppError('CONFUSABLE_NAME', { name, existing: other });
      batchKeys.set(key, name);
      for (const face of faces) {
        const owner = batchOwners.get(face.id);
        if (owner !== undefined && owner !== name) {
          throw new AppError('PHOTO_ENROLLED_ELSEWHERE', { file: face.file ?? face.id, person: owner, id: face.id });
        }
        batchOwners.set(face.id, name);
      }
      return { name, faces: this.planAdd(name, faces) };
    });
  }

  /** The face `faceId` of `name`; throws PERSON_NOT_FOUND or FACE_NOT_FOUND. */
  face(name: string, faceId: string): FaceMeta {
    const face = this.people.get(name)?.get(faceId);
    if (face) return face;
    this.person(name);
    throw new AppError('FACE_NOT_FOUND', { name, faceId: printable(faceId) });
  }

  /** Every face, for a replacement of the whole collection. */
  allFaceIds(): string[] {
    return [...this.owners.keys()];
  }
}

/** Names sort by code point: the same order on every machine, whatever its locale. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
