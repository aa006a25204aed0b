/** Boxes and names over a picture or a video, placed in percent of the picture so that they follow its size. */
import type { Face } from './api.js';
import { h, table } from './dom.js';

export function drawFaces(
  overlay: HTMLElement,
  faces: readonly Face[],
  image: { width: number; height: number },
): void {
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
