/**
 * People: who is enrolled, enroll someone with photos, remove a face or a person. Changes need the API key,
 * asked for here and kept only for this tab's session.
 */
import { apiKey, call, withKey } from './api.js';
import { fill, h, table } from './dom.js';

interface PeopleList {
  galleryVersion: number;
  people: { name: string; faces: number }[];
}
interface Person {
  name: string;
  galleryVersion: number;
  faces: { id: string; addedAt: string }[];
}

export function peopleView(): HTMLElement {
  const status = h('p', { id: 'people-status', role: 'status' });
  const list = h('section', { id: 'people-list' });
  const detail = h('section', { id: 'person-detail' });
  const say = (text: string, ok = true) => fill(status, h('span', { class: ok ? 'ok' : 'error' }, text));
  const path = (name: string) => `/people/${encodeURIComponent(name)}`;

  const key = h('input', { type: 'password', id: 'api-key', placeholder: 'API key', autocomplete: 'off' });
  key.value = apiKey.get();
  const keyForm = h(
    'form',
    { class: 'row' },
    h('label', { for: 'api-key' }, 'API key (kept for this tab only)'),
    key,
    h('button', { type: 'submit' }, 'Use'),
    h(
      'button',
      {
        type: 'button',
        id: 'forget-key',
        onclick: () => ((key.value = ''), apiKey.set(''), say('The key is forgotten.')),
      },
      'Forget',
    ),
  );
  keyForm.addEventListener('submit', (e) => {
    e.preventDefault();
    apiKey.set(key.value.trim());
    say('The key will be sent with changes.');
    void refresh();
  });

  const name = h('input', {
    type: 'text',
    id: 'enroll-name',
    placeholder: 'Ana_Lima',
    required: true,
    maxlength: '100',
  });
  const photos = h('input', {
    type: 'file',
    id: 'enroll-photos',
    accept: 'image/jpeg,image/png,image/webp',
    multiple: true,
    required: true,
  });
  const enrollForm = h(
    'form',
    { class: 'row', id: 'enroll-form' },
    h('label', { for: 'enroll-name' }, 'Name'),
    name,
    h('label', { for: 'enroll-photos' }, 'Photos of that one face (1 to 10)'),
    photos,
    h('button', { type: 'submit' }, 'Enroll'),
  );
  enrollForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = new FormData();
    for (const file of photos.files ?? []) form.append('images', file, file.name);
    say(`Enrolling ${name.value}…`);
    const answer = await call<{ name: string; added: unknown[]; alreadyEnrolled: unknown[]; faces: number }>(
      `${path(name.value.trim())}/faces`,
      withKey({ method: 'POST', body: form }),
    );
    if (!answer.ok) return say(answer.message, false);
    const r = answer.body;
    say(`${r.name}: ${r.added.length} face(s) added, ${r.alreadyEnrolled.length} already enrolled; ${r.faces} in all.`);
    enrollForm.reset();
    await refresh();
    await show(r.name);
  });

  const show = async (person: string) => {
    const answer = await call<Person>(path(person), withKey());
    if (!answer.ok) return fill(detail, h('p', { class: 'error' }, answer.message));
    const p = answer.body;
    fill(
      detail,
      h('h3', {}, p.name),
      table(
        ['face', 'added', ''],
        p.faces.map((f) => [
          f.id,
          new Date(f.addedAt).toLocaleString(),
          h(
            'button',
            { class: 'remove-face', 'data-face': f.id, onclick: () => void removeFace(p.name, f.id) },
            'Remove this face',
          ),
        ]),
      ),
      h('button', { id: 'remove-person', onclick: () => void removePerson(p.name) }, `Remove ${p.name} and every face`),
    );
  };
  const removeFace = async (person: string, faceId: string) => {
    const answer = await call(`${path(person)}/faces/${encodeURIComponent(faceId)}`, withKey({ method: 'DELETE' }));
    if (!answer.ok) return say(answer.message, false);
    // The lists are brought up to date first, so that the sentence means "done".
    await refresh();
    await show(person);
    say(`A face of ${person} was removed.`);
  };
  const removePerson = async (person: string) => {
    if (!confirm(`Remove ${person} and every face of theirs from the gallery?`)) return;
    const answer = await call(path(person), withKey({ method: 'DELETE' }));
    if (!answer.ok) return say(answer.message, false);
    fill(detail);
    await refresh();
    say(`${person} was removed.`);
  };
  const refresh = async () => {
    const answer = await call<PeopleList>('/people', withKey());
    if (!answer.ok) return fill(list, h('p', { class: 'error' }, answer.message));
    const { people, galleryVersion } = answer.body;
    fill(
      list,
      h(
        'p',
        { class: 'muted' },
        `${people.length} ${people.length === 1 ? 'person' : 'people'} · gallery v${galleryVersion}`,
      ),
      table(
        ['name', 'faces'],
        people.map((p) => [
          h(
            'a',
            { href: '#people', class: 'person', onclick: (e: Event) => (e.preventDefault(), void show(p.name)) },
            p.name,
          ),
          p.faces,
        ]),
        [false, true],
      ),
    );
  };
  void refresh();
  return h('div', {}, h('h2', {}, 'People'), keyForm, enrollForm, status, list, detail);
}
