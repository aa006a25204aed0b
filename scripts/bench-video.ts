/**
 * `npm run bench:video -- [--seconds 120] [--json]`: what one worker does with a classroom video, measured
 * side by side in one run on this machine. A lecture is made from LFW photos (20 enrolled people in photos not
 * enrolled, and strangers; 1280x720, 30 frames a second, H.264), then:
 *
 * 1. Decoding: ffmpeg, locked down as the workers run it, keeps a frame a second: the system's ffmpeg and the
 *    npm registry's packaged build, alternated three times each (frames kept per second, video seconds per
 *    second).
 * 2. Recognising those frames: the engine of one worker (one thread), every face matched against the gallery.
 * 3. The whole video task, as a worker runs it: header, frames, faces, roster, CSV (the records lookup, one
 *    call per video, answers from memory here): frames looked at per second, and its stages.
 * 4. A long lecture (--long-seconds, 600), whose frames are spread 20 s apart as past VIDEO_MAX_FRAMES: every
 *    frame decoded against keyframes only (what the task does from 10 s apart), alternated.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { loadEngine } from '../src/app-tier/recognition/engine.js';
import { FaceMatcher, identify, matchThresholdFor } from '../src/app-tier/recognition/face-matcher.js';
import { quantize } from '../src/shared/collections/vectors.js';
import { videoTask } from '../src/app-tier/tasks/video/video-task.js';
import { loadConfig } from '../src/shared/config/config.js';
import { EMBEDDING_DIMENSIONS, faceIdOf } from '../src/shared/collections/names-and-faces.js';
import { extractFrames, type Frame } from '../src/app-tier/tasks/video/frames.js';
import { findTool, type VideoTool } from '../src/shared/video/tools.js';
import { makeClip, type Segment } from './lib/clips.js';
import { positiveInt } from './lib/options.js';
import { cpuInfo } from './lib/reference.js';

const LFW = '../shared/datasets/lfw-view1-train';
const ENROLLED_PEOPLE = 20;
const SEGMENT_SECONDS = 4;
const RUNS = 3;

const program = new Command()
  .name('npm run bench:video --')
  .description('Measure one worker on a classroom video: decoding, recognising, the whole task.')
  .option('--seconds <n>', 'length of the lecture made for it', positiveInt, 120)
  .option('--long-seconds <n>', 'length of the long lecture (frames 20 s apart)', positiveInt, 600)
  .option('--json', 'print the results as one JSON object');

const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

function tools(): { name: string; tool: VideoTool; version: string }[] {
  const found: { name: string; tool: VideoTool }[] = [];
  try {
    found.push({ name: 'system', tool: findTool('ffmpeg', undefined, { packaged: false }) });
  } catch {
    log('no system ffmpeg: measuring the packaged build only');
  }
  const { path } = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string };
  found.push({ name: 'packaged', tool: { path, source: 'packaged' } });
  return found.map((t) => ({
    ...t,
    version: execFileSync(t.tool.path, ['-version'])
      .toString()
      .split('\n')[0]!
      .replace(/ Copyright.*| https?:\S+/g, ''),
  }));
}

async function main(): Promise<void> {
  const o = program.parse().opts<{ seconds: number; longSeconds: number; json?: boolean }>();
  const config = loadConfig();
  const cpu = cpuInfo();
  const found = tools();
  const system = found[0]!.tool;
  const engine = await loadEngine(config.recognition);
  const dir = await mkdtemp(join(tmpdir(), 'facefleet-bench-video-'));
  try {
    // The people: the first 20 LFW identities with four photos or more, enrolled from three; strangers after.
    const rows = parse(readFileSync(`${LFW}/labels.csv`, 'utf8'), { columns: true }) as {
      image: string;
      identity: string;
    }[];
    const photos = new Map<string, string[]>();
    for (const r of rows) photos.set(r.identity, [...(photos.get(r.identity) ?? []), `${LFW}/images/${r.image}`]);
    const people = [...photos].filter(([, p]) => p.length >= 4).slice(0, ENROLLED_PEOPLE);
    const strangers = [...photos].filter(([, p]) => p.length === 1).slice(0, 10);
    log(`enrolling ${people.length} people…`);
    const gallery = new FaceMatcher({ indexMinFaces: config.worker.galleryIndexMinFaces });
    for (const [name, p] of people) {
      const faces: { id: string; name: string }[] = [];
      const rows: Float32Array[] = [];
      for (const file of p.slice(0, 3)) {
        const bytes = await readFile(file);
        const { faces: found } = await engine.analyze(bytes, 1);
        if (!found[0]) continue;
        faces.push({ id: faceIdOf(bytes), name: name.replace(/_/g, ' ') });
        rows.push(found[0].embedding);
      }
      const matrix = new Float32Array(rows.length * EMBEDDING_DIMENSIONS);
      rows.forEach((r, i) => matrix.set(r, i * EMBEDDING_DIMENSIONS));
      if (faces.length) await gallery.add(faces, quantize(matrix));
    }

    // The lecture: each enrolled person in a fourth photo, a stranger every fifth segment.
    const segments: Segment[] = [];
    for (let i = 0; segments.length * SEGMENT_SECONDS < o.seconds; i++) {
      const stranger = i % 5 === 4;
      const image = stranger ? strangers[i % strangers.length]![1][0]! : people[i % people.length]![1][3]!;
      segments.push({ image, seconds: SEGMENT_SECONDS });
    }
    const clip = join(dir, 'lecture.mp4');
    log(`making a ${o.seconds} s lecture (1280x720, 30 frames/s, H.264)…`);
    await makeClip(system.path, segments, clip, { width: 1280, height: 720, extra: ['-r', '30'] });
    const clipBytes = (await readFile(clip)).length;

    // 1. Decoding, the tools alternated.
    const frameOptions = {
      everySeconds: config.video.frameSeconds,
      maxFrames: 100_000,
      timeoutMs: 600_000,
      memoryBytes: config.video.toolMemoryBytes,
    };
    const decodeMs = new Map<string, number[]>(found.map((t) => [t.name, []]));
    let frames: Frame[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const t of found) {
        const started = performance.now();
        const got = await extractFrames(t.tool, clip, frameOptions);
        decodeMs.get(t.name)!.push(performance.now() - started);
        if (t.tool === system) frames = got;
      }
    }
    const decoding = found.map((t) => {
      const ms = median(decodeMs.get(t.name)!);
      return {
        tool: t.name,
        version: t.version,
        medianMs: round(ms),
        framesPerSecond: round((frames.length / ms) * 1000),
        /** Every frame of the video is decoded, kept or not. */
        videoFramesDecodedPerSecond: Math.round(((o.seconds * 30) / ms) * 1000),
        videoSecondsPerSecond: round((o.seconds / ms) * 1000),
      };
    });

    // 2. Recognising the frames kept.
    const recogniseMs: number[] = [];
    let faces = 0;
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      faces = 0;
      for (const f of frames) {
        const analysis = await engine.analyze(f.bytes, config.matching.maxFaces);
        for (const face of analysis.faces) identify(gallery.search(face.embedding, 1), config.matching.threshold);
        faces += analysis.faces.length;
      }
      recogniseMs.push(performance.now() - started);
    }
    const recognising = {
      frames: frames.length,
      faces,
      medianMs: round(median(recogniseMs)),
      framesPerSecond: round((frames.length / median(recogniseMs)) * 1000),
      msPerFrame: round(median(recogniseMs) / frames.length, 2),
    };

    // 3. The whole task, as a worker runs it.
    const task = videoTask({
      engine,
      galleries: { get: async () => gallery },
      matchThreshold: (people) => matchThresholdFor(config.matching, people),
      maxFaces: config.matching.maxFaces,
      tools: { ffmpeg: system, ffprobe: findTool('ffprobe') },
      limits: config.video,
      frameSeconds: config.video.frameSeconds,
      maxFrames: config.video.maxFrames,
      decodeTimeoutMs: config.video.decodeTimeoutSeconds * 1000,
      toolMemoryBytes: config.video.toolMemoryBytes,
      students: async () => ({ records: new Map(), fields: [] }),
    });
    const taskMs: number[] = [];
    let timings: Record<string, number> = {};
    let roster = { students: 0, unknownFaces: 0, framesSeen: 0 };
    for (let run = 0; run < RUNS; run++) {
      const t: Record<string, number> = {};
      const started = performance.now();
      const result = await task(
        { path: clip, bytes: clipBytes, fileName: 'lecture.mp4', csvKey: 'lecture.csv', collection: 'default' },
        t,
      );
      taskMs.push(performance.now() - started);
      timings = t;
      roster = {
        students: result.video.students.length,
        unknownFaces: result.video.unknown.faces,
        framesSeen: result.video.framesSeen,
      };
    }
    const wholeTask = {
      ...roster,
      medianMs: round(median(taskMs)),
      framesPerSecond: round((roster.framesSeen / median(taskMs)) * 1000),
      videoSecondsPerSecond: round((o.seconds / median(taskMs)) * 1000),
      stagesMs: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k.replace(/Ms$/, ''), round(v)])),
    };

    // 4. A long lecture, frames far apart: every frame decoded, or keyframes only.
    log(`making a ${o.longSeconds} s lecture…`);
    const long = join(dir, 'long.mp4');
    const longSegments = Array.from({ length: Math.ceil(o.longSeconds / 20) }, (_, i) => ({
      image: people[i % people.length]![1][3]!,
      seconds: 20,
    }));
    await makeClip(system.path, longSegments, long, { width: 1280, height: 720, extra: ['-r', '30'] });
    const sparse = { ...frameOptions, everySeconds: 20 };
    const longMs = { every: [] as number[], keyframes: [] as number[] };
    let longFrames = { every: 0, keyframes: 0 };
    for (let run = 0; run < RUNS; run++) {
      for (const keyframesOnly of [false, true]) {
        const started = performance.now();
        const got = await extractFrames(system, long, { ...sparse, keyframesOnly });
        longMs[keyframesOnly ? 'keyframes' : 'every'].push(performance.now() - started);
        longFrames = { ...longFrames, [keyframesOnly ? 'keyframes' : 'every']: got.length };
      }
    }
    const longLecture = {
      seconds: o.longSeconds,
      everySeconds: 20,
      everyFrame: { frames: longFrames.every, medianMs: round(median(longMs.every)) },
      keyframesOnly: { frames: longFrames.keyframes, medianMs: round(median(longMs.keyframes)) },
      speedUp: round(median(longMs.every) / median(longMs.keyframes), 1),
    };

    const result = {
      date: new Date().toISOString(),
      machine: { cpu: cpu.model, flags: cpu.flags, cores: availableParallelism() },
      lecture: {
        seconds: o.seconds,
        width: 1280,
        height: 720,
        fps: 30,
        bytes: clipBytes,
        everySeconds: frameOptions.everySeconds,
      },
      decoding,
      packagedOverSystemDecodeTime:
        decoding.length === 2 ? round(decoding[1]!.medianMs / decoding[0]!.medianMs, 2) : undefined,
      recognising,
      wholeTask,
      recognitionShareOfTask: round(recognising.medianMs / wholeTask.medianMs, 2),
      longLecture,
    };
    if (o.json) console.log(JSON.stringify(result, null, 2));
    else console.log(report(result));
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function report(r: {
  date: string;
  machine: { cpu: string; cores: number };
  lecture: { seconds: number; bytes: number; everySeconds: number };
  decoding: {
    tool: string;
    version: string;
    medianMs: number;
    framesPerSecond: number;
    videoFramesDecodedPerSecond: number;
    videoSecondsPerSecond: number;
  }[];
  packagedOverSystemDecodeTime?: number;
  recognising: { frames: number; faces: number; framesPerSecond: number; msPerFrame: number };
  wholeTask: {
    framesSeen: number;
    students: number;
    unknownFaces: number;
    medianMs: number;
    framesPerSecond: number;
    videoSecondsPerSecond: number;
    stagesMs: Record<string, number>;
  };
  recognitionShareOfTask: number;
  longLecture: {
    seconds: number;
    everySeconds: number;
    everyFrame: { frames: number; medianMs: number };
    keyframesOnly: { frames: number; medianMs: number };
    speedUp: number;
  };
}): string {
  const lines = [
    `Classroom video, one worker — ${r.machine.cpu}, ${r.machine.cores} cores, ${r.date.slice(0, 10)}`,
    `Lecture: ${r.lecture.seconds} s, 1280x720 at 30 frames/s, H.264, ${(r.lecture.bytes / 1e6).toFixed(1)} MB; a frame every ${r.lecture.everySeconds} s looked at (median of ${RUNS} runs each)`,
    '',
    'Decoding (ffmpeg locked down, keeping a frame a second):',
    ...r.decoding.map(
      (d) =>
        `  ${d.tool.padEnd(9)} ${d.version.padEnd(46)} ${String(d.medianMs).padStart(8)} ms  ${String(d.framesPerSecond).padStart(6)} frames kept/s  (${d.videoFramesDecodedPerSecond} video frames decoded/s, ${d.videoSecondsPerSecond} s of video/s)`,
    ),
    ...(r.packagedOverSystemDecodeTime === undefined
      ? []
      : [`  packaged ÷ system decode time: ${r.packagedOverSystemDecodeTime}`]),
    '',
    `Recognising ${r.recognising.frames} frames (${r.recognising.faces} faces): ${r.recognising.framesPerSecond} frames/s, ${r.recognising.msPerFrame} ms a frame`,
    '',
    `The whole video task: ${r.wholeTask.framesSeen} frames in ${r.wholeTask.medianMs} ms = ${r.wholeTask.framesPerSecond} frames decoded and recognised per second per worker (${r.wholeTask.videoSecondsPerSecond} s of video a second)`,
    `  ${r.wholeTask.students} students named, ${r.wholeTask.unknownFaces} unknown faces; recognition is ${Math.round(r.recognitionShareOfTask * 100)} % of the task`,
    `  stages (ms): ${Object.entries(r.wholeTask.stagesMs)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '',
    `A ${r.longLecture.seconds} s lecture, a frame every ${r.longLecture.everySeconds} s: every frame decoded ${r.longLecture.everyFrame.medianMs} ms (${r.longLecture.everyFrame.frames} frames), keyframes only ${r.longLecture.keyframesOnly.medianMs} ms (${r.longLecture.keyframesOnly.frames} frames): ${r.longLecture.speedUp}x faster`,
  ];
  return lines.join('\n');
}

await main();
