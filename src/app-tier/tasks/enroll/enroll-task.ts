/**
 * The `enroll` task: the embeddings of the photo's two largest faces, with their boxes and sharpness, for the web
 * tier's enrollment service to apply the face rule (src/enrollment/face-rule.ts) and add the dominant one to the
 * gallery; `facesFound` says how many there were. Nothing is stored in the out-bucket.
 */
import { ENROLLMENT_ANALYSIS } from '../../../enrollment/face-rule.js';
import { encodeVector } from '../../../shared/collections/names-and-faces.js';
import type { RecognitionEngine } from '../../recognition/engine.js';
import { describeFace, refuseIfDamaged, type TaskHandler } from '../task.js';

export function enrollTask(engine: RecognitionEngine): TaskHandler {
  return async (_request, bytes, timings) => {
    const analysis = await engine.analyze(bytes, ENROLLMENT_ANALYSIS.maxFaces, ENROLLMENT_ANALYSIS);
    Object.assign(timings, analysis.timings);
    if (analysis.facesFound === 0) await refuseIfDamaged(bytes);
    return {
      image: { width: analysis.width, height: analysis.height },
      facesFound: analysis.facesFound,
      faces: analysis.faces.map((face) => ({
        ...describeFace(face),
        ...(face.sharpness === undefined ? {} : { sharpness: Math.round(face.sharpness * 10) / 10 }),
        embedding: encodeVector(face.embedding),
      })),
      label: undefined,
      similarity: undefined,
    };
  };
}
