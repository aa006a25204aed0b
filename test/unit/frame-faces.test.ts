/** Which detections of a video frame are counted: sure, large enough in the video's pixels, not part of a face. */
import { describe, expect, it } from 'vitest';
import { FRAME_FACE_RULE, facesToCount } from '../../src/app-tier/tasks/video/frame-faces.js';

const face = (x1: number, y1: number, width: number, score = 0.99) => ({
  box: { x1, y1, x2: x1 + width, y2: y1 + width },
  score,
});

describe('facesToCount', () => {
  it('keeps whole faces side by side', () => {
    const faces = [face(0, 0, 100), face(200, 0, 90), face(400, 50, 40)];
    expect(facesToCount(faces, 1)).toEqual(faces);
  });

  it('drops a box mostly inside a larger face: a chin or a forehead of a scaled-up close-up', () => {
    // The second box (135 px) lies mostly inside the face (204 px), as on a 640×480 close-up scaled to 1280.
    const whole = face(520, 328, 204);
    expect(facesToCount([whole, face(499, 345, 135, 0.91)], 2)).toEqual([whole]);
  });

  it('drops faces the detector is unsure of, and faces too small in the video’s own pixels', () => {
    const sure = face(0, 0, 100);
    const unsure = face(300, 0, 100, FRAME_FACE_RULE.minScore - 0.01);
    // 38 px in a frame scaled up twice: 19 px in the video.
    const tiny = face(600, 0, 2 * FRAME_FACE_RULE.minWidth - 2);
    expect(facesToCount([sure, unsure, tiny], 0.5)).toEqual([sure]);
    // The same 38 px box in a frame at the video's own size is counted.
    expect(facesToCount([sure, tiny], 1)).toEqual([sure, tiny]);
  });
});
