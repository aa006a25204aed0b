/**
 * Camera: as EXOGEM's client does, the browser's camera sends a frame every few hundred milliseconds, only
 * once the previous answer is back, and the faces are boxed and named live over the video. getUserMedia needs
 * a secure page: https, or http://localhost.
 */
import { recognise } from './api.js';
import { fill, h, ms } from './dom.js';
import { drawFaces, stageFor } from './faces.js';

/** Least time between two frames sent, in milliseconds. */
const FRAME_INTERVAL_MS = 300;

export function cameraView(): { element: HTMLElement; stop(): void } {
  const video = h('video', { autoplay: true, muted: true, playsinline: true, id: 'camera-video' });
  const overlay = h('div', { class: 'overlay' });
  const status = h('p', { id: 'camera-status', role: 'status' }, 'The camera is off.');
  const names = h('p', { id: 'camera-names' });
  const start = h('button', { id: 'camera-start' }, 'Start the camera');
  const stopButton = h('button', { id: 'camera-stop', disabled: true }, 'Stop');
  let stream: MediaStream | undefined;
  let running = false;
  const canvas = document.createElement('canvas');

  const stop = () => {
    running = false;
    for (const track of stream?.getTracks() ?? []) track.stop();
    stream = undefined;
    video.srcObject = null;
    overlay.replaceChildren();
    start.disabled = false;
    stopButton.disabled = true;
  };

  const loop = async () => {
    let frames = 0;
    const since = performance.now();
    while (running) {
      const started = performance.now();
      if (video.videoWidth === 0) {
        await sleep(50);
        continue;
      }
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext('2d')!.drawImage(video, 0, 0);
      const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
      if (!blob || !running) break;
      const answer = await recognise(blob, 'camera.jpg');
      if (!running) break;
      frames++;
      const rate = (frames / ((performance.now() - since) / 1000)).toFixed(1);
      if (answer.ok) {
        drawFaces(overlay, answer.body.faces, answer.body.image);
        fill(names, answer.body.faces.map((f) => f.label).join(', '));
        fill(status, `${rate} frames/s · ${ms(answer.clientMs)} per answer · worker ${answer.body.workerId}`);
      } else {
        overlay.replaceChildren();
        fill(names);
        fill(status, h('span', { class: answer.code === 'NO_FACE' ? 'muted' : 'error' }, answer.message));
      }
      await sleep(Math.max(0, FRAME_INTERVAL_MS - (performance.now() - started)));
    }
  };

  start.addEventListener('click', async () => {
    if (!navigator.mediaDevices?.getUserMedia) {
      fill(
        status,
        h(
          'span',
          { class: 'error' },
          'This page cannot use a camera: browsers allow it only on https or http://localhost. Open the console there.',
        ),
      );
      return;
    }
    start.disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 480 } },
        audio: false,
      });
    } catch (err) {
      start.disabled = false;
      fill(status, h('span', { class: 'error', id: 'camera-error' }, cameraProblem(err)));
      return;
    }
    video.srcObject = stream;
    running = true;
    stopButton.disabled = false;
    fill(status, 'Looking…');
    void loop();
  });
  stopButton.addEventListener('click', () => {
    stop();
    fill(status, 'The camera is off.');
  });

  const element = h(
    'div',
    {},
    h('h2', {}, 'Camera'),
    h('div', { class: 'row' }, start, stopButton),
    status,
    names,
    stageFor(video, overlay),
  );
  return { element, stop };
}

/** What went wrong with the camera, in words a person can act on. */
function cameraProblem(err: unknown): string {
  switch ((err as DOMException).name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'The camera was refused. Allow it for this page in the browser’s site settings, then press Start again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found. Connect one, then press Start again.';
    case 'NotReadableError':
      return 'The camera is in use by another program, or the system refused it.';
    default:
      return `The camera could not start: ${(err as Error).message}`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
