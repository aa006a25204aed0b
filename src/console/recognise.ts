/** Recognise: drop or pick a photo, see every face boxed and named, with similarities and the top three. */
import { recognise } from './api.js';
import { fill, h, onFile, ms } from './dom.js';
import { drawFaces, facesTable, stageFor } from './faces.js';
import { stagesLine } from './timing.js';

export function recogniseView(): HTMLElement {
  const input = h('input', {
    type: 'file',
    accept: 'image/jpeg,image/png,image/webp',
    id: 'recognise-file',
    class: 'visually-hidden',
  });
  const drop = h(
    'label',
    { class: 'drop', for: 'recognise-file' },
    'Drop a photo here, or click to pick one (JPEG, PNG, WebP).',
  );
  const result = h('section', { id: 'recognise-result' });
  let objectUrl: string | undefined;

  const run = async (file: File) => {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(file);
    const overlay = h('div', { class: 'overlay' });
    const img = h('img', { src: objectUrl, alt: file.name });
    const stage = stageFor(img, overlay);
    fill(result, h('p', { class: 'muted' }, `Recognising ${file.name}…`), stage);
    const answer = await recognise(file, file.name);
    if (!answer.ok) {
      fill(result, h('p', { class: 'error', id: 'recognise-error' }, answer.message), stage);
      return;
    }
    const r = answer.body;
    drawFaces(overlay, r.faces, r.image);
    fill(
      result,
      h(
        'p',
        { id: 'recognise-answer' },
        h('b', {}, `${r.name}:${r.label}`),
        ` · ${r.facesFound} face${r.facesFound === 1 ? '' : 's'} found · worker ${r.workerId} · gallery v${r.galleryVersion} · ${ms(answer.clientMs)} here`,
      ),
      stage,
      facesTable(r.faces),
      stagesLine(answer.timing),
    );
  };

  onFile(input, drop, (file) => void run(file));
  return h('div', {}, h('h2', {}, 'Recognise'), input, drop, result);
}
