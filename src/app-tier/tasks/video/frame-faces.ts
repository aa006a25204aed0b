/**
 * Which detections in a classroom video's frame are faces to count. Frames are scaled to 1280 px (frames.ts),
 * up for a webcam's 640×480, so that the detector finds the small faces at the back of a room; on a close-up the
 * scaled frame also gets boxes on part of a face (a chin, a forehead) beside the whole one. A face is counted
 * when the detector is sure of it, when it is large enough in the video's own pixels to be recognised (the
 * enrollment rule's limit: src/enrollment/face-rule.ts), and when it is not mostly inside a larger face.
 */
import { FACE_RULE } from '../../../enrollment/face-rule.js';

export const FRAME_FACE_RULE = {
  /** The detector's score, 0..1. */
  minScore: 0.8,
  /** Width in the video's own pixels. */
  minWidth: FACE_RULE.minWidth,
  /** The part of a face's box inside a larger face's box past which it is a part of that face. */
  maxInside: 0.3,
} as const;

interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/** The faces to count, in their order; `scale` turns the frame's pixels into the video's. */
export function facesToCount<T extends { readonly box: Box; readonly score: number }>(
  faces: readonly T[],
  scale: number,
): T[] {
  const area = (b: Box) => Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
  const inside = (small: Box, large: Box) => {
    const overlap = area({
      x1: Math.max(small.x1, large.x1),
      y1: Math.max(small.y1, large.y1),
      x2: Math.min(small.x2, large.x2),
      y2: Math.min(small.y2, large.y2),
    });
    return overlap / Math.max(area(small), 1e-9);
  };
  const sure = faces.filter(
    (f) => f.score >= FRAME_FACE_RULE.minScore && (f.box.x2 - f.box.x1) * scale >= FRAME_FACE_RULE.minWidth,
  );
  return sure.filter(
    (f) => !sure.some((g) => g !== f && area(g.box) > area(f.box) && inside(f.box, g.box) > FRAME_FACE_RULE.maxInside),
  );
}
