/**
 * People: who is enrolled in a collection, a page at a time, enroll someone with photos, remove a face or a
 * person; choose or create the collection (the other views match against the one chosen here). Changes need
 * the API key, asked for here and kept only for this tab's session.
 */
import { apiKey, call, collection, withKey } from './api.js';
import { fill, h, table } from './dom.js';

interface PeopleList {
  collection: string;
  galleryVersion: number;
  totalPeople: number;
  totalFaces: number;
  people: { name: string; faces: number }[];
  next?: string;
}
interface Collections {
  collections: { name: string; people: number; faces: number; version: number }[];
}
/** People per page: a collection of a million faces is never sent whole. */
const PAGE = 50;
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
  const base = () => `/collections/${encodeURIComponent(collection.get())}/people`;
  const path = (name: string) => `${base()}/${encodeURIComponent(name)}`;
  /** The first name of each page shown so far, for going back; the page shown starts after the last. */
  let pages: (string | undefined)[] = [undefined];

  const picker = h('select', { id: 'collection' });
  const newName = h('input', { type: 'text', id: 'new-collection', placeholder: 'class-2026', maxlength: '64' });
  const collectionForm = h(
    'form',
    { class: 'row', id: 'collection-form' },
    h('label', { for: 'collection' }, 'Collection'),
    picker,
    newName,
    h('button', { type: 'submit' }, 'Create'),
  );
  picker.addEventListener('change', () => {
    collection.set(picker.value);
    pages = [undefined];
    fill(detail);
    void refresh();
  });
  collectionForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const wanted = newName.value.trim();
    if (!wanted) return;
    const answer = await call(`/collections/${encodeURIComponent(wanted)}`, withKey({ method: 'POST' }));
    if (!answer.ok) return say(answer.message, false);
    collection.set(wanted);
    newName.value = '';
    pages = [undefined];
    await loadCollections();
    await refresh();
    say(`The collection ${wanted} was created; Recognise, Camera and Videos now match against it.`);
  });
  const loadCollections = async () => {
    const answer = await call<Collections>('/collections', withKey());
    const names = answer.ok ? answer.body.collections.map((c) => c.name) : ['default'];
    if (!names.includes(collection.get())) collection.set('default');
    fill(
      picker,
      ...names.map((n) => {
        const option = h('option', { value: n }, n);
        if (n === collection.get()) option.setAttribute('selected', '');
        return option;
      }),
    );
  };

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
    void loadCollections().then(refresh);
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
    h('label', { for: 'enroll-photos' }, 'Photos of their face (1 to 10; the largest face in each is theirs)'),
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
    if (!confirm(`Remove ${person} and every face of theirs from ${collection.get()}?`)) return;
    const answer = await call(path(person), withKey({ method: 'DELETE' }));
    if (!answer.ok) return say(answer.message, false);
    fill(detail);
    await refresh();
    say(`${person} was removed.`);
  };
  const refresh = async () => {
    const after = pages.at(-1);
    const query = `?limit=${PAGE}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`;
    const answer = await call<PeopleList>(`${base()}${query}`, withKey());
    if (!answer.ok) return fill(list, h('p', { class: 'error' }, answer.message));
    const { people, galleryVersion, totalPeople, totalFaces, next } = answer.body;
    const shown = (pages.length - 1) * PAGE;
    const pager = h(
      'p',
      { class: 'row pager' },
      h(
        'button',
        {
          type: 'button',
          id: 'previous-page',
          ...(pages.length > 1 ? {} : { disabled: '' }),
          onclick: () => (pages.pop(), void refresh()),
        },
        'Previous',
      ),
      h(
        'button',
        {
          type: 'button',
          id: 'next-page',
          ...(next === undefined ? { disabled: '' } : {}),
          onclick: () => (pages.push(next), void refresh()),
        },
        'Next',
      ),
    );
    fill(
      list,
      h(
        'p',
        { class: 'muted', id: 'people-summary' },
        `${totalPeople} ${totalPeople === 1 ? 'person' : 'people'}, ${totalFaces} faces · ` +
          `${answer.body.collection} v${galleryVersion}` +
          (totalPeople > people.length ? ` · showing ${shown + 1}–${shown + people.length}` : ''),
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
      ...(totalPeople > people.length ? [pager] : []),
    );
  };
  void loadCollections().then(refresh);
  return h('div', {}, h('h2', {}, 'People'), keyForm, collectionForm, enrollForm, status, list, detail);
}
