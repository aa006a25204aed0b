/** The console: one page, a view per tab (the address's #fragment), each started when shown and stopped when left. */
import './console.css';
import { apiKey, monitor } from './api.js';
import { cameraView } from './camera.js';
import { liveView } from './live.js';
import { monitoringView } from './monitoring.js';
import { peopleView } from './people.js';
import { recogniseView } from './recognise.js';
import { videosView } from './videos.js';

type View = { element: HTMLElement; stop?: () => void };

const VIEWS: Record<string, () => View> = {
  recognise: () => ({ element: recogniseView() }),
  people: () => ({ element: peopleView() }),
  camera: cameraView,
  videos: () => ({ element: videosView() }),
  live: liveView,
  monitoring: monitoringView,
};

let current: View | undefined;

function show(): void {
  const name = location.hash.slice(1) in VIEWS ? location.hash.slice(1) : 'recognise';
  current?.stop?.();
  current = VIEWS[name]!();
  document.getElementById('view')!.replaceChildren(current.element);
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', a.getAttribute('href') === `#${name}`);
  document.title = `facefleet · ${name}`;
}

/**
 * `npm start` prints a link that signs the console in: `/console/#key=<key>`. The key is kept for the tab, as
 * the People view's field keeps it, and taken out of the address at once (a fragment never reaches the server).
 */
function signInFromLink(): void {
  const given = new URLSearchParams(location.hash.slice(1)).get('key');
  if (!given) return;
  apiKey.set(given);
  history.replaceState(null, '', `${location.pathname}${location.search}#people`);
}

signInFromLink();
window.addEventListener('hashchange', () => {
  signInFromLink();
  show();
});
// What the console reported and not yet sent goes before the page does.
window.addEventListener('pagehide', () => void monitor.close(500));
show();
