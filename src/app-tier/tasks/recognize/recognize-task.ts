/**
 * The `recognize` task: every face (or only the subject) matched against the gallery; the subject's label is
 * the answer. Refused without a gallery or a face.
 */
import { AppError } from '../../../shared/wire/errors.js';
import type { CollectionCache } from '../collection-cache.js';
import type { RecognitionEngine } from '../../recognition/engine.js';
import { identify } from '../../recognition/face-matcher.js';
import { currentGallery, describeFace, refuseIfDamaged, roundSimilarity, type TaskHandler } from '../task.js';

export interface RecognizeTaskOptions {
  readonly engine: RecognitionEngine;
  readonly galleries: Pick<CollectionCache, 'get'>;
  /** Similarity below which a face is "Unknown" in a collection of so many people; undefined: always the nearest. */
  readonly matchThreshold: (people: number) => number | undefined;
  /** Most faces embedded for an answer that lists every face. */
  readonly maxFaces: number;
}

export function recognizeTask(options: RecognizeTaskOptions): TaskHandler {
  return async (request, bytes, timings) => {
    const gallery = await currentGallery(options.galleries, request.collection);
    const analysis = await options.engine.analyze(bytes, request.faces === 'all' ? options.maxFaces : 1);
    Object.assign(timings, analysis.timings);
    if (analysis.faces.length === 0) {
      await refuseIfDamaged(bytes);
      throw new AppError('NO_FACE');
    }
    const matchStarted = performance.now();
    const threshold = options.matchThreshold(gallery.people);
    const faces = analysis.faces.map((face) => {
      const { label, similarity, candidates } = identify(gallery.search(face.embedding, 3), threshold);
      return {
        ...describeFace(face),
        label,
        similarity: roundSimilarity(similarity),
        candidates: candidates.map((c) => ({ name: c.name, similarity: roundSimilarity(c.similarity) })),
      };
    });
    timings['matchMs'] = performance.now() - matchStarted;
    const subject = faces[0]!;
    return {
      image: { width: analysis.width, height: analysis.height },
      facesFound: analysis.facesFound,
      faces,
      label: subject.label,
      similarity: subject.similarity,
      galleryVersion: gallery.version,
      collection: request.collection,
    };
  };
}
