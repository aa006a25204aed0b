/**
 * The `enroll` task: the embeddings of the photo's two largest faces, with their boxes and sharpness, for the web
 * tier's enrollment service to apply the face rule (src/enrollment/face-rule.ts) and add the dominant one to the
 * gallery; `facesFound` says how many there were; and, for each face, the enrolled person it is most like in the
 * request's collection, so that a copy of someone else's photo is refused (plan.ts, refuseNearCopies). Nothing is
 * stored in the out-bucket.
 */
import { ENROLLMENT_ANALYSIS } from '../../../enrollment/face-rule.js';
import { encodeVector } from '../../../shared/collections/names-and-faces.js';
import type { RecognitionEngine } from '../../recognition/engine.js';
import { DEFAULT_COLLECTION } from '../../../shared/collections/manifest.js';
import type { CollectionCache } from '../collection-cache.js';
import { currentGallery, describeFace, refuseIfDamaged, roundSimilarity, type TaskHandler } from '../task.js';

export function enrollTask(engine: RecognitionEngine, galleries: Pick<CollectionCache, 'get'>): TaskHandler {
  return async (request, bytes, timings) => {
    const analysis = await engine.analyze(bytes, ENROLLMENT_ANALYSIS.maxFaces, ENROLLMENT_ANALYSIS);
    Object.assign(timings, analysis.timings);
    if (analysis.facesFound === 0) await refuseIfDamaged(bytes);
    // The collection as this worker holds it; none yet (the first enrollment creates it): nobody to be like.
    const gallery = await currentGallery(galleries, request.collection ?? DEFAULT_COLLECTION).catch(() => undefined);
    const t = performance.now();
    const nearest = analysis.faces.map((face) => gallery?.search(face.embedding, 1)[0]);
    timings['matchMs'] = performance.now() - t;
    return {
      image: { width: analysis.width, height: analysis.height },
      facesFound: analysis.facesFound,
      faces: analysis.faces.map((face, i) => ({
        ...describeFace(face),
        ...(face.sharpness === undefined ? {} : { sharpness: Math.round(face.sharpness * 10) / 10 }),
        embedding: encodeVector(face.embedding),
        ...(nearest[i]
          ? { candidates: [{ name: nearest[i].name, similarity: roundSimilarity(nearest[i].similarity) }] }
          : {}),
      })),
      label: undefined,
      similarity: undefined,
    };
  };
}
