/**
 * Enrollment as a service: reads and changes of the gallery by person, for the web tier's routes and
 * `npm run enroll` alike. How photos are embedded is the caller's (the web tier asks the workers; the command
 * runs the engine itself); the rules are plan.ts's and gallery.ts's; what is kept or deleted from the
 * in-bucket follows from them. An enrollment adds all its photos or none, and keeps no photo it did not add.
 */
import {
  addFaces,
  findPerson,
  removeFace,
  removePerson,
  replacePeople,
  validatePersonName,
  type NewFace,
  type StoredFace,
  type StoredGallery,
} from '../shared/gallery.js';
import type { GalleryRepository } from '../shared/gallery-repository.js';
import type { Logger } from '../shared/logger.js';
import { facesOf, keptAndRepeated, type EmbeddedPhoto, type PlannedFace } from './plan.js';

export interface EnrollmentDeps {
  readonly gallery: GalleryRepository;
  /** Deletes enrollment photos from the in-bucket. */
  readonly deletePhotos: (keys: readonly string[]) => Promise<void>;
  readonly logger: Logger;
}

export interface EnrollmentResult {
  readonly name: string;
  readonly galleryVersion: number;
  /** Faces added by this enrollment, one per distinct photo. */
  readonly added: readonly PlannedFace[];
  /** Photos that were already enrolled for this person, or sent twice; their copies are not kept. */
  readonly alreadyEnrolled: readonly PlannedFace[];
  /** The person's faces now. */
  readonly faces: number;
}

export class EnrollmentService {
  constructor(private readonly deps: EnrollmentDeps) {}

  async list() {
    const { gallery } = await this.deps.gallery.read();
    return {
      galleryVersion: gallery.version,
      people: gallery.people
        .map((p) => ({ name: p.name, faces: p.faces.length }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  async person(rawName: string) {
    const name = validatePersonName(rawName);
    const { gallery } = await this.deps.gallery.read();
    const person = findPerson(gallery, name);
    return {
      name,
      galleryVersion: gallery.version,
      faces: person.faces.map((f) => ({ id: f.id, addedAt: f.addedAt })),
    };
  }

  /**
   * Enrolls photos of one person. `embed` embeds them all (or throws); `sourceKeys` are where they were stored,
   * every one deleted when the enrollment is refused, and repeats deleted when it succeeds.
   */
  async enroll(
    rawName: string,
    o: {
      readonly requestId: string;
      readonly sourceKeys: readonly string[];
      readonly embed: () => Promise<EmbeddedPhoto[]>;
    },
  ): Promise<EnrollmentResult> {
    const name = validatePersonName(rawName);
    let faces: PlannedFace[];
    let update: { gallery: StoredGallery; added: string[] };
    try {
      faces = facesOf(await o.embed());
      update = await this.deps.gallery.update((current) => addFaces(current, name, faces));
    } catch (err) {
      // Refused (the one-face rule, a look-alike name, a photo that is someone else's) or not written: nothing
      // is enrolled, so no photo is kept either.
      await this.deletePhotos(o.sourceKeys);
      throw err;
    }
    const { gallery, added } = update;
    const { kept, repeated } = keptAndRepeated(faces, added);
    await this.deletePhotos(repeated.flatMap((f) => (f.sourceKey ? [f.sourceKey] : [])));
    this.deps.logger.info(
      { requestId: o.requestId, name, added: kept.length, repeated: repeated.length, galleryVersion: gallery.version },
      'enrolled',
    );
    return {
      name,
      galleryVersion: gallery.version,
      added: kept,
      alreadyEnrolled: repeated,
      faces: findPerson(gallery, name).faces.length,
    };
  }

  async removePerson(rawName: string) {
    const name = validatePersonName(rawName);
    const { gallery, removed } = await this.deps.gallery.update((current) => removePerson(current, name));
    await this.deletePhotos(sourceKeys(removed));
    this.deps.logger.info({ name, faces: removed.length, galleryVersion: gallery.version }, 'person removed');
    return { name, removedFaces: removed.length, galleryVersion: gallery.version };
  }

  async removeFace(rawName: string, faceId: string) {
    const name = validatePersonName(rawName);
    const { gallery, removed } = await this.deps.gallery.update((current) => removeFace(current, name, faceId));
    await this.deletePhotos(sourceKeys(removed));
    const left = gallery.people.find((p) => p.name === name)?.faces.length ?? 0;
    this.deps.logger.info({ name, faceId, galleryVersion: gallery.version }, 'face removed');
    return { name, removedFace: faceId, faces: left, galleryVersion: gallery.version };
  }

  /**
   * Stores many people at once, as `npm run enroll` does: added to the stored gallery (`merge`), or replacing
   * everyone in it. The same rules hold as for one person (valid, distinct names; a photo is one person's).
   */
  async store(people: ReadonlyMap<string, readonly NewFace[]>, { merge }: { merge: boolean }): Promise<StoredGallery> {
    for (const name of people.keys()) validatePersonName(name);
    const { gallery } = merge
      ? await this.deps.gallery.update((current) => {
          let next = { gallery: current };
          for (const [name, faces] of people) next = addFaces(next.gallery, name, faces);
          return next;
        })
      : await this.deps.gallery.update((current) => ({ gallery: replacePeople(current, people) }), { replace: true });
    return gallery;
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

function sourceKeys(faces: readonly StoredFace[]): string[] {
  return faces.flatMap((f) => (f.sourceKey ? [f.sourceKey] : []));
}
