/**
 * Videos: send a classroom video, see who was in the room (each student once, with their record, the first time
 * seen and the best similarity) and the unknown faces apart. The answer holds students' records: the request
 * carries the API key kept on the People tab.
 */
import { apiKey, call, collection, withKey } from './api.js';
import { fill, h, onFile, ms, table } from './dom.js';
import { stagesLine } from './timing.js';

interface Roster {
  name: string;
  durationSeconds?: number;
  frameSeconds: number;
  framesSeen: number;
  students: {
    name: string;
    firstSeenSeconds: number;
    bestSimilarity: number;
    frames: number;
    record?: Record<string, string>;
  }[];
  unknown: { faces: number; mostInOneFrame: number; people: number; firstSeenSeconds?: number };
  recordFields: string[];
  csvKey: string;
  recordsOmitted?: boolean;
  workerId: string;
}

const seconds = (s: number | undefined) => (s === undefined ? '' : `${s.toFixed(1)} s`);

export function videosView(): HTMLElement {
  const input = h('input', {
    type: 'file',
    accept: 'video/mp4,video/quicktime,video/webm,.mp4,.mov,.webm',
    id: 'videos-file',
    class: 'visually-hidden',
  });
  const drop = h(
    'label',
    { class: 'drop', for: 'videos-file' },
    'Drop a classroom video here, or click to pick one (MP4, MOV, WebM).',
  );
  const hint = apiKey.get()
    ? undefined
    : h('p', { class: 'muted', id: 'videos-key-hint' }, 'Videos need the API key: set it on the People tab first.');
  const result = h('section', { id: 'videos-result' });

  const run = async (file: File) => {
    fill(result, h('p', { class: 'muted' }, `Looking at ${file.name}: a frame a second, every face in each…`));
    const form = new FormData();
    form.append('inputFile', file, file.name);
    const answer = await call<Roster>(`/videos${collection.query()}`, withKey({ method: 'POST', body: form }));
    if (!answer.ok) {
      fill(result, h('p', { class: 'error', id: 'videos-error' }, answer.message));
      return;
    }
    const r = answer.body;
    const fields = r.recordFields;
    const rows = r.students.map((s) => [
      s.name,
      ...fields.map((f) => s.record?.[f] ?? ''),
      seconds(s.firstSeenSeconds),
      s.bestSimilarity.toFixed(3),
      s.frames,
    ]);
    rows.push(['Unknown', ...fields.map(() => ''), seconds(r.unknown.firstSeenSeconds), '', r.unknown.faces]);
    fill(
      result,
      h(
        'p',
        { id: 'videos-answer' },
        h('b', {}, `${r.students.length} student${r.students.length === 1 ? '' : 's'}`),
        `, ${r.unknown.people} stranger${r.unknown.people === 1 ? '' : 's'} (${r.unknown.faces} unknown face${r.unknown.faces === 1 ? '' : 's'} over the frames)`,
        ` · ${r.framesSeen} frames, one every ${r.frameSeconds} s of ${seconds(r.durationSeconds) || 'a video of unknown length'}`,
        ` · worker ${r.workerId} · ${ms(answer.clientMs)} here`,
      ),
      table(['name', ...fields, 'first seen', 'best similarity', 'seen in'], rows, [
        false,
        ...fields.map(() => false),
        true,
        true,
        true,
      ]),
      h(
        'p',
        { class: 'muted' },
        `Stored as ${r.csvKey} in the out-bucket${r.recordsOmitted ? ' (with the records this answer leaves out)' : ''}. The last column counts frames, or unknown faces on the last row.`,
      ),
      stagesLine(answer.timing),
    );
  };

  onFile(input, drop, (file) => void run(file));
  return h('div', {}, h('h2', {}, 'Videos'), hint, input, drop, result);
}
