/**
 * Boxes and names over a picture or a video, placed in percent of the picture so that they follow its size. The
 * stage that holds them is sized to the picture (console.css, .stage), so that percent of one is percent of the
 * other at every photo size and window width.
 */
import type { Face } from './api.js';
import { h, table } from './dom.js';

/** Below this width a picture is shown larger (a 64 px course image), with its pixels kept sharp. */
const SMALLEST_SHOWN = 256;

/** A picture or video with an overlay for its boxes, sized to it once its size is known. */
export function stageFor(media: HTMLImageElement | HTMLVideoElement, overlay: HTMLElement): HTMLElement {
  const stage = h('div', { class: 'stage' }, media, overlay);
  if (media instanceof HTMLVideoElement) {
    media.addEventListener('loadedmetadata', () => fitStage(stage, media.videoWidth, media.videoHeight));
  } else {
    media.addEventListener('load', () => fitStage(stage, media.naturalWidth, media.naturalHeight));
  }
  return stage;
}

/** Tells the stage its picture's size (console.css turns it into the stage's width). */
function fitStage(stage: HTMLElement, width: number, height: number): void {
  if (!width || !height) return;
  stage.style.setProperty('--aspect', String(width / height));
  stage.style.setProperty('--natural-width', `${width}px`);
  stage.classList.toggle('enlarged', width < SMALLEST_SHOWN);
}

export function drawFaces(
  overlay: HTMLElement,
  faces: readonly Face[],
  image: { width: number; height: number },
): void {
  // The answer's size is the upright picture's, which the boxes are in.
  if (overlay.parentElement) fitStage(overlay.parentElement, image.width, image.height);
  overlay.replaceChildren(
    ...faces.map((face) => {
      const [x1, y1, x2, y2] = face.box;
      const label = face.label ?? '';
      const box = h(
        'div',
        { class: `face-box${label === 'Unknown' ? ' unknown' : ''}`, 'data-label': label },
        h('span', {}, face.similarity === undefined ? label : `${label} ${face.similarity.toFixed(2)}`),
      );
      box.style.left = `${(x1 / image.width) * 100}%`;
      box.style.top = `${(y1 / image.height) * 100}%`;
      box.style.width = `${((x2 - x1) / image.width) * 100}%`;
      box.style.height = `${((y2 - y1) / image.height) * 100}%`;
      return box;
    }),
  );
}

/** Every face with its best candidates. */
export function facesTable(faces: readonly Face[]): HTMLTableElement {
  return table(
    ['face', 'label', 'similarity', 'top 3', 'box (px)'],
    faces.map((f, i) => [
      i + 1,
      f.label ?? '',
      f.similarity?.toFixed(3) ?? '',
      (f.candidates ?? []).map((c) => `${c.name} ${c.similarity.toFixed(3)}`).join(', '),
      f.box.map((v) => Math.round(v)).join(', '),
    ]),
    [true, false, true, false, false],
  );
}
