/**
 * The `enroll` task: the faces' embeddings, for the web tier's enrollment service to add to the gallery. Two
 * are enough to tell "one face" from "several"; `facesFound` says how many there were. Nothing is stored in
 * the out-bucket.
 */
import { encodeVector } from '../../shared/gallery.js';
import type { RecognitionEngine } from '../recognition/engine.js';
import { describeFace, refuseIfDamaged, type TaskHandler } from './task.js';

export function enrollTask(engine: RecognitionEngine): TaskHandler {
  return async (_request, bytes, timings) => {
    const analysis = await engine.analyze(bytes, 2);
    Object.assign(timings, analysis.timings);
    if (analysis.facesFound === 0) await refuseIfDamaged(bytes);
    return {
      image: { width: analysis.width, height: analysis.height },
      facesFound: analysis.facesFound,
      faces: analysis.faces.map((face) => ({ ...describeFace(face), embedding: encodeVector(face.embedding) })),
      label: undefined,
      similarity: undefined,
    };
  };
}
