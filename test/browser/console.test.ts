/**
 * The web console in a real browser (Debian's Chromium, driven by playwright-core) against the real local
 * stack: recognise a course image and see the right label in a box; enroll and remove a person with the key;
 * watch the live charts follow a burst (0 → 2 workers → 0); run the camera view on Chromium's fake camera fed
 * from a clip made here from a course image, and see the right name; name who is in a classroom video; see the
 * monitoring history. With
 * SCREENSHOTS_DIR set (`npm run docs:screenshots`), each page's screenshot is saved there.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { LocalStack } from '../../src/local/stack.js';
import { COURSE_IMAGES, LFW_IMAGES } from '../helpers/fixtures.js';
import { newScratchDir } from '../helpers/data-dirs.js';
import { enrollCourseSubset, startTestStack, until } from '../helpers/stack.js';
import { makeClip } from '../../scripts/lib/clips.js';
import { parseStudentRecords } from '../../src/shared/video/student-records.js';
import { StudentTable } from '../../src/shared/video/student-table.js';
import { createDynamoClient } from '../../src/shared/aws/clients.js';
import { findTool } from '../../src/shared/video/tools.js';

/** Debian's Chromium (.ci/run installs it with apt): the test tool's own browser download fails on these machines. */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  const message = `${CHROMIUM} is absent: install Debian's chromium (apt-get install chromium) to run the browser tests.`;
  // CI installs it: there its absence is a failure, not a skip.
  if (process.env['CI']) throw new Error(message);
  console.warn(`Skipping the browser tests: ${message}`);
}
const API_KEY = 'console-test-key-0123456789';
/** Flags for Chromium on a machine with no network beyond the registries (see the tool library's env notes). */
const QUIET = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe.skipIf(!hasChromium)('the web console', () => {
  let stack: LocalStack;
  let browser: Browser;
  let page: Page;
  let base: string;
  const scratch = newScratchDir('facefleet-console-');
  const shots = process.env['SCREENSHOTS_DIR'] ?? scratch;
  /** Report posts of the console that failed (the reporter once aborted each after its answer). */
  const failedReports: string[] = [];

  const open = async (view: string) => {
    await page.goto(`${base}/console/#${view}`);
    await page.waitForSelector('main h2');
  };
  const screenshot = (name: string) => page.screenshot({ path: join(shots, `console-${name}.png`), fullPage: true });
  const workersRunning = async () =>
    ((await (await fetch(`${base}/live`)).json()) as { workers?: { running: number } }).workers?.running;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    // Scales from 0 to 2 and back, so that the live view shows a burst doing just that.
    stack = await startTestStack({ API_KEY, MIN_WORKERS: '0', MAX_WORKERS: '2', SCALE_IN_IDLE_SECONDS: '2' });
    base = stack.web.url.replace('127.0.0.1', 'localhost');
    await enrollCourseSubset(stack, 40);

    // The fake camera's clip: a course image of Paul, larger, on a grey frame, as a webcam would see him.
    const face = await sharp(`${COURSE_IMAGES}test_000.jpg`).resize(240, 240).toBuffer();
    const frame = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#6b6f73' } })
      .composite([{ input: face, left: 200, top: 120 }])
      .jpeg({ quality: 90 })
      .toBuffer();
    const clip = join(scratch, 'paul.mjpeg');
    writeFileSync(clip, Buffer.concat(Array.from({ length: 10 }, () => frame)));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        ...QUIET,
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${clip}`,
      ],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on('pageerror', (err) => console.error('console page error:', err.message));
    page.on('requestfailed', (r) => {
      if (r.url().includes('/monitoring/reports')) failedReports.push(r.failure()?.errorText ?? 'failed');
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('opens on the web tier’s address: a browser asking for / is sent to the console', async () => {
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/console/');
    expect(await page.title()).toMatch(/facefleet/);
  });

  it('recognises a course image: the right label, in a box over the face', async () => {
    await open('recognise');
    await page.setInputFiles('#recognise-file', `${COURSE_IMAGES}test_000.jpg`);
    await page.waitForSelector('#recognise-answer', { timeout: 60_000 });
    expect(await page.textContent('#recognise-answer')).toContain('test_000:Paul');
    const box = await page.locator('.face-box[data-label="Paul"]').boundingBox();
    const image = await page.locator('.stage img').boundingBox();
    // The box lies inside the picture and covers a real part of it.
    expect(box!.width).toBeGreaterThan(image!.width * 0.2);
    expect(box!.x).toBeGreaterThanOrEqual(image!.x);
    expect(box!.x + box!.width).toBeLessThanOrEqual(image!.x + image!.width + 1);
    expect(await page.locator('table').textContent()).toMatch(/Paul\s*1\.000/);
    await screenshot('recognise');
  });

  // Aaron Peirsol's 250 px LFW photo (his face about 90 px wide in its middle) placed on a grey picture of each
  // size: the box drawn over the page must be over his face, in pixels, whatever the picture's size and the
  // window's width.
  it.each([
    ['landscape', 2016, 1512, 1500, 180],
    ['portrait', 900, 1600, 80, 1250],
    ['small', 400, 300, 130, 40],
  ])(
    'draws the box over the face of a %s photo (%i×%i), in a wide window and on a phone',
    async (shape, width, height, left, top) => {
      const file = join(scratch, `${shape}.jpg`);
      await sharp({ create: { width, height, channels: 3, background: '#808080' } })
        .composite([{ input: `${LFW_IMAGES}Aaron_Peirsol_0001.jpg`, left, top }])
        .jpeg()
        .toFile(file);
      for (const viewport of [
        { width: 1200, height: 800 },
        { width: 390, height: 844 },
      ]) {
        await page.setViewportSize(viewport);
        await open('recognise');
        await page.setInputFiles('#recognise-file', file);
        await page.waitForSelector('#recognise-answer', { timeout: 60_000 });
        const image = (await page.locator('.stage img').boundingBox())!;
        const box = (await page.locator('.face-box').first().boundingBox())!;
        const scale = image.width / width;
        // The picture is shown whole, at its aspect, inside the window.
        expect(image.height / image.width).toBeCloseTo(height / width, 2);
        expect(image.x + image.width).toBeLessThanOrEqual(viewport.width);
        // The face's centre (the photo's centre, give or take 25 photo pixels) is the box's centre.
        const faceX = image.x + (left + 125) * scale;
        const faceY = image.y + (top + 125) * scale;
        const slack = 25 * scale + 2;
        expect(Math.abs(box.x + box.width / 2 - faceX), `${shape} at ${viewport.width} px: x`).toBeLessThan(slack);
        expect(Math.abs(box.y + box.height / 2 - faceY), `${shape} at ${viewport.width} px: y`).toBeLessThan(slack);
        // And it is a face's size, not the picture's.
        expect(box.width).toBeGreaterThan(60 * scale);
        expect(box.width).toBeLessThan(140 * scale);
      }
      await page.setViewportSize({ width: 1200, height: 800 });
    },
  );

  it('reads on a phone: the navigation on one line, nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const view of ['recognise', 'people', 'camera', 'videos', 'live', 'monitoring']) {
        await open(view);
        await page.waitForTimeout(300);
        const nav = (await page.locator('header nav').boundingBox())!;
        const link = (await page.locator('header nav a').first().boundingBox())!;
        expect(nav.height, `${view}: the navigation's height`).toBeLessThan(link.height * 1.8);
        const widest = await page.evaluate<number>('document.documentElement.scrollWidth');
        expect(widest, `${view}: the page's width`).toBeLessThanOrEqual(390);
        if (view === 'monitoring') await screenshot('phone-monitoring');
      }
    } finally {
      await page.setViewportSize({ width: 1200, height: 800 });
    }
  });

  it('says why a file is refused', async () => {
    await open('recognise');
    const notAnImage = join(scratch, 'notes.jpg');
    writeFileSync(notAnImage, 'these are notes, not a photo');
    await page.setInputFiles('#recognise-file', notAnImage);
    await page.waitForSelector('#recognise-error');
    expect(await page.textContent('#recognise-error')).toContain('"notes.jpg" is not a JPEG, PNG or WebP image');
  });

  it('enrolls and removes a person with the key, showing names as they are', async () => {
    await open('people');
    await page.waitForSelector('#people-list .error');
    expect(await page.textContent('#people-list')).toContain('needs the API key');
    await page.fill('#api-key', API_KEY);
    await page.click('text=Use');
    await page.waitForSelector('#people-list table');
    // A name the server refuses comes back in its sentence: shown as text, never run as markup.
    await page.fill('#enroll-name', '<img src=x onerror="window.pwned=1">');
    await page.setInputFiles('#enroll-photos', `${LFW_IMAGES}Aaron_Peirsol_0001.jpg`);
    await page.click('#enroll-form button[type=submit]');
    await page.waitForSelector('#people-status .error');
    expect(await page.textContent('#people-status')).toContain('<img src=x');
    expect(await page.evaluate('window.pwned')).toBeUndefined();

    const name = "Zoë O'Brien-Ünal";
    await page.fill('#enroll-name', name);
    await page.setInputFiles('#enroll-photos', [
      `${LFW_IMAGES}Aaron_Peirsol_0001.jpg`,
      `${LFW_IMAGES}Aaron_Peirsol_0002.jpg`,
    ]);
    await page.click('#enroll-form button[type=submit]');
    await page.waitForSelector('#people-status .ok >> text=face(s) added', { timeout: 60_000 });
    expect(await page.textContent('#people-status')).toContain(`${name}: 2 face(s) added`);
    await page.waitForSelector(`#people-list a.person >> text=${name}`);
    await page.waitForSelector('#person-detail .remove-face');
    await screenshot('people');

    await page.locator('#person-detail .remove-face').first().click();
    await page.waitForSelector('#people-status >> text=A face of');
    await until(async () => (await page.locator('#person-detail .remove-face').count()) === 1, 10_000, 'one face left');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#remove-person');
    // Exactly this sentence: "A face of … was removed." contains it too.
    await until(
      async () => (await page.textContent('#people-status')) === `${name} was removed.`,
      20_000,
      'the person’s removal',
    );
    // The sentence comes once the list is up to date.
    expect(await page.locator(`#people-list a.person >> text=${name}`).count()).toBe(0);
  });

  it('is signed in by the link npm start prints, which leaves the key out of the address', async () => {
    await page.evaluate('sessionStorage.clear()');
    await page.goto(`${base}/console/#key=${API_KEY}`);
    await page.waitForSelector('#people-list');
    expect(new URL(page.url()).hash).toBe('#people');
    await page.waitForFunction("!document.querySelector('#people-list .error')");
    expect(await page.inputValue('#api-key')).toBe(API_KEY);
  });

  it('creates a collection, enrolls into it, pages through its people, and recognises against it', async () => {
    // The views after this one match against the default collection again, whatever happens here.
    onTestFinished(async () => {
      await page.evaluate(() => sessionStorage.setItem('facefleet-collection', 'default'));
    });
    await open('people');
    await page.fill('#api-key', API_KEY);
    await page.click('text=Use');
    await page.waitForSelector('#collection option[value=default]', { state: 'attached' });
    await page.fill('#new-collection', 'console-class');
    await page.click('#collection-form button[type=submit]');
    await page.waitForSelector('#people-status .ok >> text=console-class was created');
    expect(await page.inputValue('#collection')).toBe('console-class');
    await page.waitForSelector('#people-summary >> text=console-class v0');
    // Over 50 people (one photo each, under names of their own): more than the page of 50 the view shows. Many
    // LFW photos show a second face in the background and are refused: one photo of each identity until 51 are in.
    const firstOfEach = new Map<string, string>();
    for (const f of readdirSync(LFW_IMAGES).sort()) {
      const identity = f.replace(/_\d{4}\.jpg$/, '');
      if (!firstOfEach.has(identity)) firstOfEach.set(identity, f);
    }
    const photos = [...firstOfEach.values()];
    const enrolled: number[] = [];
    for (const [i, file] of photos.entries()) {
      if (enrolled.length > 50) break;
      const form = new FormData();
      form.append('images', new Blob([readFileSync(`${LFW_IMAGES}${file}`)]), file);
      const res = await fetch(
        `${stack.web.url}/collections/console-class/people/Person_${String(i).padStart(3, '0')}/faces`,
        {
          method: 'POST',
          body: form,
          headers: { 'X-API-Key': API_KEY },
        },
      );
      expect([201, 422]).toContain(res.status);
      if (res.status === 201) enrolled.push(i);
    }
    expect(enrolled.length).toBeGreaterThan(50);
    await page.selectOption('#collection', 'default');
    await page.selectOption('#collection', 'console-class');
    await page.waitForSelector('#people-summary >> text=showing 1–50');
    expect(await page.locator('#people-list a.person').count()).toBe(50);
    await page.click('#next-page');
    await page.waitForSelector('#people-summary >> text=showing 51–');
    expect(await page.locator('#people-list a.person').count()).toBeLessThanOrEqual(2);
    await page.click('#previous-page');
    await page.waitForSelector('#people-summary >> text=showing 1–50');
    // Recognise matches against the collection chosen here.
    await open('recognise');
    const probe = enrolled[3]!;
    await page.setInputFiles('#recognise-file', `${LFW_IMAGES}${photos[probe]!}`);
    await page.waitForSelector(`#recognise-result >> text=Person_${String(probe).padStart(3, '0')}`, {
      timeout: 60_000,
    });
  });

  it('runs the camera view on the fake camera and names the face live', async () => {
    await open('camera');
    await page.click('#camera-start');
    await page.waitForSelector('#camera-video + .overlay .face-box[data-label="Paul"]', { timeout: 60_000 });
    expect(await page.textContent('#camera-names')).toContain('Paul');
    expect(await page.textContent('#camera-status')).toMatch(/frames\/s/);
    await screenshot('camera');
    await page.click('#camera-stop');
  });

  it('names who is in a classroom video, with their records', async () => {
    const dynamodb = createDynamoClient(stack.config);
    await new StudentTable(dynamodb, stack.config.resources.studentsTable).load(
      parseStudentRecords('name,id,major,year\nPaul,S-2001,"Computer Science, Systems",4\n'),
    );
    dynamodb.destroy();
    const clip = await makeClip(
      findTool('ffmpeg').path,
      [
        { image: `${COURSE_IMAGES}test_000.jpg`, seconds: 2 },
        { image: `${COURSE_IMAGES}test_001.jpg`, seconds: 2 },
      ],
      join(scratch, 'class.mp4'),
    );
    // The key set on the People tab goes with the video.
    await open('videos');
    expect(await page.locator('#videos-key-hint').count()).toBe(0);
    await page.setInputFiles('#videos-file', clip);
    await page.waitForSelector('#videos-answer', { timeout: 60_000 });
    // The course's photos are 64 px: scaled up to a 1280-px frame, blurred shapes may be taken for faces too, so the
    // unknown faces are not counted here (test/integration/videos.test.ts counts them on LFW photos).
    expect(await page.textContent('#videos-answer')).toMatch(
      /^2 students, \d+ strangers? \(\d+ unknown faces? over the frames\) .* 4 frames, one every 1 s of 4\.0 s/,
    );
    const rows = await page.locator('#videos-result tbody tr').allTextContents();
    expect(rows[0]).toMatch(/^PaulS-2001Computer Science, Systems40\.0 s(0\.9\d{2}|1\.000)2$/);
    expect(rows[1]).toMatch(/^Emily2\.0 s[01]\.\d{3}2$/);
    expect(rows[2]).toMatch(/^Unknown(\d+\.\d s)?\d+$/);
    await screenshot('videos');
  });

  it('says clearly when the camera is refused', async () => {
    const refusing = await chromium.launch({ executablePath: CHROMIUM, args: QUIET });
    try {
      const context = await refusing.newContext();
      const p = await context.newPage();
      await p.goto(`${base}/console/#camera`);
      // No fake UI: the permission prompt of a headless browser is dismissed, as a person saying no.
      await p.click('#camera-start');
      await p.waitForSelector('#camera-error', { timeout: 20_000 });
      expect(await p.textContent('#camera-error')).toMatch(/refused|No camera was found/);
    } finally {
      await refusing.close();
    }
  });

  it('charts a burst live: the queue fills, workers go 0 → 2 → 0, answers per second rise', async () => {
    await until(async () => (await workersRunning()) === 0, 60_000, 'the fleet to scale in');
    await open('live');
    await page.waitForSelector('#live-workers');
    const chart = (title: string) => page.locator(`.chart[data-chart="${title}"]`);
    const peak = async (title: string) => Number(await chart(title).getAttribute('data-peak'));
    expect(await page.textContent('#live-workers')).toContain('0 / 2');
    const image = readFileSync(`${COURSE_IMAGES}test_001.jpg`);
    const burst = Array.from({ length: 40 }, async () => {
      const form = new FormData();
      form.append('inputFile', new Blob([image]), 'test_001.jpg');
      return (await fetch(`${base}/`, { method: 'POST', body: form })).status;
    });
    // Both workers running, as the tile says and the chart drew (its series include the desired count).
    await page.waitForSelector('#live-workers >> text=2 / 2', { timeout: 60_000 });
    expect(await peak('Workers')).toBe(2);
    expect((await Promise.all(burst)).every((s) => s === 200)).toBe(true);
    await until(async () => (await peak('Recognitions')) > 0, 10_000, 'answers per second on the chart');
    expect(await peak('Request queue')).toBeGreaterThan(0);
    await screenshot('live');
    await page.waitForSelector('#live-workers >> text=0 / 2', { timeout: 60_000 });
    expect(Number(await chart('Workers').getAttribute('data-points'))).toBeGreaterThan(5);
  });

  it('shows the monitoring history that clients reported', async () => {
    await open('monitoring');
    // The console reported its own recognitions (the page flushes them as it changes view).
    await until(
      async () => /answers\s*[1-9]/.test((await page.textContent('#monitoring-tiles')) ?? ''),
      20_000,
      'reported answers',
    );
    await page.waitForSelector('#monitoring-stages table');
    expect(await page.textContent('#monitoring-stages')).toContain('detect');
    expect(await page.textContent('#monitoring-workers')).toMatch(/local-worker-[12]/);
    // The web process that took each request (one here: WEB_PROCESSES=1).
    expect(await page.textContent('#monitoring-web')).toMatch(/w1-[0-9a-z]{8}/);
    await screenshot('monitoring');
    // Every report the console posted in this whole file was answered, none aborted.
    expect(failedReports).toEqual([]);
  });
});
