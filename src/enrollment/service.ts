/**
 * Enrollment as a service: reads and changes of a collection by person, for the web tier's routes and
 * `npm run enroll` alike. How photos are embedded is the caller's (the web tier asks the workers; the command
 * runs the engine itself); the rules are plan.ts's and the collection view's; what is kept or deleted from the
 * in-bucket follows from them. An enrollment adds all its photos or none, and keeps no photo it did not add.
 * Each change is one small segment in the collection (shared/collections/), never a rewrite of it.
 */
import { validatePersonName, type NewFace } from '../shared/collections/names-and-faces.js';
import { DEFAULT_COLLECTION } from '../shared/collections/manifest.js';
import { faceToAdd, type CollectionRepository } from '../shared/collections/repository.js';
import { CollectionView } from '../shared/collections/view.js';
import type { Logger } from '../shared/logger.js';
import { facesOf, keptAndRepeated, refuseNearCopies, type EmbeddedPhoto, type PlannedFace } from './plan.js';

export interface EnrollmentDeps {
  readonly collections: CollectionRepository;
  /** Deletes enrollment photos from the in-bucket. */
  readonly deletePhotos: (keys: readonly string[]) => Promise<void>;
  readonly logger: Logger;
  /** Starts a compaction of the collection when its small segments pile up; never awaited by a request. */
  readonly compact?: (collection: string) => void;
}

export interface EnrollmentResult {
  readonly name: string;
  readonly collection: string;
  readonly galleryVersion: number;
  /** Faces added by this enrollment, one per distinct photo. */
  readonly added: readonly PlannedFace[];
  /** Photos that were already enrolled for this person, or sent twice; their copies are not kept. */
  readonly alreadyEnrolled: readonly PlannedFace[];
  /** The person's faces now. */
  readonly faces: number;
}

/** People listed per page at most: a collection of a million faces is never sent whole. */
export const MAX_PEOPLE_PAGE = 1000;

export class EnrollmentService {
  constructor(private readonly deps: EnrollmentDeps) {}

  /** People in name order, a page at a time: `after` is the last name of the page before. */
  async list(collection: string, page: { after?: string; limit?: number } = {}) {
    const { manifest, view } = await this.read(collection);
    const { people, next } = view.page({ after: page.after, limit: Math.min(page.limit ?? 100, MAX_PEOPLE_PAGE) });
    return {
      collection,
      galleryVersion: manifest.version,
      totalPeople: view.peopleCount,
      totalFaces: view.faces,
      people,
      ...(next !== undefined ? { next } : {}),
    };
  }

  async person(collection: string, rawName: string) {
    const name = validatePersonName(rawName);
    const { manifest, view } = await this.read(collection);
    return {
      name,
      collection,
      galleryVersion: manifest.version,
      faces: view.person(name).map((f) => ({ id: f.id, addedAt: f.addedAt })),
    };
  }

  /**
   * Enrolls photos of one person. `embed` embeds them all (or throws); `sourceKeys` are where they were stored,
   * every one deleted when the enrollment is refused, and repeats deleted when it succeeds. The default
   * collection is created by its first enrollment; any other must have been created.
   */
  async enroll(
    collection: string,
    rawName: string,
    request: {
      readonly requestId: string;
      readonly sourceKeys: readonly string[];
      readonly embed: () => Promise<EmbeddedPhoto[]>;
    },
  ): Promise<EnrollmentResult> {
    const name = validatePersonName(rawName);
    let faces: PlannedFace[];
    let update: { added: string[]; faces: number; version: number };
    try {
      faces = facesOf(await request.embed());
      update = await this.deps.collections.change(
        collection,
        (view) => {
          // A look-alike name and an identical photo are refused first, with their own sentences.
          const fresh = view.planAdd(name, faces);
          refuseNearCopies(name, faces, (person) => view.has(person));
          const now = new Date();
          const held = view.has(name) ? view.person(name).length : 0;
          return {
            add: fresh.map((f) => faceToAdd(name, f, now)),
            result: { added: fresh.map((f) => f.id), faces: held + fresh.length },
          };
        },
        { create: collection === DEFAULT_COLLECTION },
      );
    } catch (err) {
      // Refused (the face rule, a look-alike name, a photo that is someone else's) or not written: nothing
      // is enrolled, so no photo is kept either.
      await this.deletePhotos(request.sourceKeys);
      throw err;
    }
    const { kept, repeated } = keptAndRepeated(faces, update.added);
    await this.deletePhotos(repeated.flatMap((f) => (f.sourceKey ? [f.sourceKey] : [])));
    this.deps.logger.info(
      {
        requestId: request.requestId,
        collection,
        name,
        added: kept.length,
        repeated: repeated.length,
        galleryVersion: update.version,
      },
      'enrolled',
    );
    if (kept.length > 0) this.deps.compact?.(collection);
    return {
      name,
      collection,
      galleryVersion: update.version,
      added: kept,
      alreadyEnrolled: repeated,
      faces: update.faces,
    };
  }

  async removePerson(collection: string, rawName: string) {
    const name = validatePersonName(rawName);
    const { removed, version } = await this.deps.collections.change(collection, (view) => {
      const faces = view.person(name);
      return { remove: faces.map((f) => f.id), result: { removed: faces } };
    });
    await this.deletePhotos(removed.flatMap((f) => (f.sourceKey ? [f.sourceKey] : [])));
    this.deps.logger.info({ collection, name, faces: removed.length, galleryVersion: version }, 'person removed');
    this.deps.compact?.(collection);
    return { name, collection, removedFaces: removed.length, galleryVersion: version };
  }

  async removeFace(collection: string, rawName: string, faceId: string) {
    const name = validatePersonName(rawName);
    const { removed, left, version } = await this.deps.collections.change(collection, (view) => {
      const face = view.face(name, faceId);
      return { remove: [face.id], result: { removed: face, left: view.person(name).length - 1 } };
    });
    await this.deletePhotos(removed.sourceKey ? [removed.sourceKey] : []);
    this.deps.logger.info({ collection, name, faceId, galleryVersion: version }, 'face removed');
    this.deps.compact?.(collection);
    return { name, collection, removedFace: faceId, faces: left, galleryVersion: version };
  }

  /**
   * Stores many people at once, as `npm run enroll` does: added to the collection, or (`replace`) replacing
   * everyone in it. The same rules hold as for one person (valid, distinct names; a photo is one person's).
   * Returns the new version, the collection's people and faces, and with `replace` how many faces it removed.
   */
  async store(
    collection: string,
    people: ReadonlyMap<string, readonly NewFace[]>,
    { replace }: { replace: boolean },
  ): Promise<{ version: number; people: number; faces: number; added: number; removed: number }> {
    for (const name of people.keys()) validatePersonName(name);
    return this.deps.collections.change(
      collection,
      (view) => {
        const remove = replace ? view.allFaceIds() : [];
        // With `replace`, the people are planned as if nobody were enrolled before them.
        const planned = (replace ? new CollectionView() : view).planAddMany(people);
        const now = new Date();
        const add = planned.flatMap((p) => p.faces.map((f) => faceToAdd(p.name, f, now)));
        const before = replace ? 0 : view.peopleCount;
        const newPeople = planned.filter((p) => p.faces.length > 0 && (replace || !view.has(p.name))).length;
        return {
          add,
          remove,
          result: {
            people: before + newPeople,
            faces: (replace ? 0 : view.faces) + add.length,
            added: add.length,
            removed: remove.length,
          },
        };
      },
      { create: true },
    );
  }

  private async read(collection: string) {
    return this.deps.collections.read(collection);
  }

  /** A failure to delete is logged, not fatal: the gallery is what counts, and unused photos are swept later. */
  private async deletePhotos(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.deps.deletePhotos(keys);
    } catch (err) {
      this.deps.logger.warn({ err, keys }, 'could not delete enrollment photos from the in-bucket');
    }
  }
}
