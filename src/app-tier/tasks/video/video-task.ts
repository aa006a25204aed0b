/**
 * The `video` task: who is in a classroom video. Its header is read first (ffprobe) and held to the same
 * limits the web tier applies (a video put straight into the bucket was never checked); then a frame every
 * `frameSeconds` from the first (ffmpeg, locked down; keyframes only when they are far apart), every face of each matched against the gallery, each
 * person counted once (first seen, best similarity; roster.ts), unknown faces counted apart; their records
 * looked up in the students table; and the CSV for the out-bucket.
 */
import { AppError } from '../../../shared/wire/errors.js';
import { rosterKey, type VideoResult } from '../../../shared/wire/messages.js';
import { extractFrames, KEYFRAMES_ONLY_FROM_SECONDS } from './frames.js';
import {
  checkVideoLimits,
  frameInterval,
  lastPictureSeconds,
  PROBE_TIMEOUT_MS,
  probeVideo,
  type VideoLimits,
} from '../../../shared/video/probe.js';
import { facesToCount } from './frame-faces.js';
import { rosterCsv, rosterOf, type FrameFaces } from './roster.js';
import { UNKNOWN_LABEL } from '../../../shared/collections/names-and-faces.js';
import type { StudentLookup } from '../../../shared/video/student-table.js';
import { VideoToolError, type VideoTool } from '../../../shared/video/tools.js';
import type { CollectionCache } from '../collection-cache.js';
import type { RecognitionEngine } from '../../recognition/engine.js';
import { identify } from '../../recognition/face-matcher.js';
import { currentGallery, roundSimilarity, type Task } from '../task.js';

/** Above this many bytes of students with their records, the answer leaves the records to the CSV. */
const MAX_RECORDS_IN_MESSAGE_BYTES = 128 * 1024;

export interface VideoTaskOptions {
  readonly engine: RecognitionEngine;
  readonly galleries: Pick<CollectionCache, 'get'>;
  /** Similarity below which a face is "Unknown" in a collection of so many people; undefined: always the nearest. */
  readonly matchThreshold: (people: number) => number | undefined;
  /** Most faces of one frame embedded and matched. */
  readonly maxFaces: number;
  /** The tools, or why there are none (the worker still takes images). */
  readonly tools: { readonly ffmpeg: VideoTool; readonly ffprobe: VideoTool } | VideoToolError;
  readonly limits: VideoLimits;
  readonly frameSeconds: number;
  readonly maxFrames: number;
  readonly decodeTimeoutMs: number;
  readonly toolMemoryBytes: number;
  /** The students' records by name. */
  readonly students: (names: readonly string[]) => Promise<StudentLookup>;
}

/** A downloaded video. */
export interface VideoInput {
  readonly path: string;
  readonly bytes: number;
  readonly fileName: string;
  /** The CSV's key in the out-bucket. */
  readonly csvKey: string;
  /** The collection its faces are matched against. */
  readonly collection: string;
}

export interface VideoTaskResult {
  readonly image: { readonly width: number; readonly height: number };
  readonly facesFound: number;
  readonly galleryVersion: number;
  readonly collection: string;
  readonly video: VideoResult;
  readonly csv: string;
}

export type VideoTaskHandler = (input: VideoInput, timings: Record<string, number>) => Promise<VideoTaskResult>;

export function videoTask(options: VideoTaskOptions): VideoTaskHandler {
  return async (input, timings) => {
    const file = input.fileName;
    if (options.tools instanceof VideoToolError)
      throw new AppError('VIDEO_TOOLS_MISSING', { detail: options.tools.message });
    const { ffmpeg, ffprobe } = options.tools;
    let t = performance.now();
    const info = await probeVideo(ffprobe, input.path, {
      timeoutMs: PROBE_TIMEOUT_MS,
      memoryBytes: options.toolMemoryBytes,
    });
    checkVideoLimits(info, input.bytes, options.limits);
    timings['probeMs'] = performance.now() - t;

    const gallery = await currentGallery(options.galleries, input.collection);

    t = performance.now();
    const everySeconds = frameInterval(info.durationSeconds, options.frameSeconds, options.maxFrames);
    const decode = (keyframesOnly: boolean) =>
      extractFrames(ffmpeg, input.path, {
        everySeconds,
        maxFrames: options.maxFrames,
        timeoutMs: options.decodeTimeoutMs,
        memoryBytes: options.toolMemoryBytes,
        keyframesOnly,
      }).catch((err: unknown) => {
        if (!(err instanceof VideoToolError)) throw err;
        if (err.reason === 'timeout')
          throw new AppError('VIDEO_DECODE_TIMEOUT', { file, seconds: options.decodeTimeoutMs / 1000 }, err);
        if (err.reason === 'no-tool') throw new AppError('VIDEO_TOOLS_MISSING', { detail: err.message }, err);
        throw new AppError('VIDEO_UNREADABLE', { file, reason: err.message }, err);
      });
    // Frames that stop well before the header's duration: a truncated file (or, keyframes only, a video with
    // too few keyframes, which is then decoded whole).
    const declared = info.durationSeconds;
    const short = (frames: readonly unknown[]) =>
      declared !== undefined &&
      frames.length < options.maxFrames &&
      frames.length * everySeconds + everySeconds < 0.9 * declared;
    const sparse = everySeconds >= KEYFRAMES_ONLY_FROM_SECONDS;
    let frames = await decode(sparse);
    if (sparse && (frames.length === 0 || short(frames))) frames = await decode(false);
    timings['framesMs'] = performance.now() - t;
    if (frames.length === 0 || short(frames)) {
      // What the file holds, from its packets: a header that claims 5000 s over 6 s of pictures is a truncated
      // (or lying) file, not one without frames; the sentence says how long it really is.
      const real = await lastPictureSeconds(ffprobe, input.path, {
        timeoutMs: PROBE_TIMEOUT_MS,
        memoryBytes: options.toolMemoryBytes,
      }).catch(() => undefined);
      const covered = real ?? frames.length * everySeconds;
      if (declared !== undefined && covered < 0.9 * declared) {
        throw new AppError('VIDEO_TRUNCATED', {
          file,
          seconds: Math.round(covered),
          declaredSeconds: Math.round(declared),
        });
      }
      if (frames.length === 0) throw new AppError('VIDEO_NO_FRAMES', { file });
    }

    const seen: FrameFaces[] = [];
    let facesFound = 0;
    let size = { width: 0, height: 0 };
    for (const frame of frames) {
      const analysis = await options.engine.analyze(frame.bytes, options.maxFaces);
      for (const [stage, ms] of Object.entries(analysis.timings)) timings[stage] = (timings[stage] ?? 0) + ms;
      size = { width: analysis.width, height: analysis.height };
      facesFound += analysis.facesFound;
      const matchStarted = performance.now();
      const threshold = options.matchThreshold(gallery.people);
      // Counted: faces the detector is sure of, large enough in the video's pixels, not part of a larger one.
      const counted = facesToCount(analysis.faces, info.width / analysis.width);
      const faces = counted.map((face) => {
        const named = identify(gallery.search(face.embedding, 1), threshold);
        return named.label === UNKNOWN_LABEL ? { ...named, embedding: face.embedding } : named;
      });
      timings['matchMs'] = (timings['matchMs'] ?? 0) + performance.now() - matchStarted;
      seen.push({ atSeconds: frame.atSeconds, faces });
    }
    if (facesFound === 0) throw new AppError('VIDEO_NO_FACES', { file, frames: frames.length });
    const roster = rosterOf(seen);

    t = performance.now();
    const lookup = await options.students(roster.students.map((s) => s.name)).catch((err: unknown) => {
      throw new AppError('STUDENT_RECORDS_UNAVAILABLE', {}, err);
    });
    timings['recordsMs'] = performance.now() - t;
    const csv = rosterCsv(roster, lookup.records, lookup.fields);
    const students = roster.students.map((s) => ({
      name: s.name,
      firstSeenSeconds: s.firstSeenSeconds,
      bestSimilarity: roundSimilarity(s.bestSimilarity),
      frames: s.frames,
      record: lookup.records.get(s.name),
    }));
    const recordsOmitted = Buffer.byteLength(JSON.stringify(students)) > MAX_RECORDS_IN_MESSAGE_BYTES;
    return {
      image: size,
      facesFound,
      galleryVersion: gallery.version,
      collection: input.collection,
      csv,
      video: {
        container: info.container,
        durationSeconds: info.durationSeconds,
        frameSeconds: everySeconds,
        framesSeen: frames.length,
        students: recordsOmitted ? students.map(({ record: _, ...s }) => s) : students,
        unknown: {
          faces: roster.unknown.detections,
          mostInOneFrame: roster.unknown.mostInOneFrame,
          people: roster.unknown.people,
          firstSeenSeconds: roster.unknown.firstSeenSeconds,
        },
        recordFields: [...lookup.fields],
        csvKey: input.csvKey,
        ...(recordsOmitted ? { recordsOmitted } : {}),
      },
    };
  };
}

/** The video task as the request handler runs it: the video on disk, its roster's CSV stored at rosterKey. */
export function videoRequestTask(handler: VideoTaskHandler, maxBytes: number): Task {
  return {
    input: { maxBytes, tooLarge: (limitBytes) => new AppError('VIDEO_TOO_LARGE', { limitBytes }) },
    async run(input, timings) {
      if (input.kind !== 'file') throw new Error('the video task was given bytes, not a file');
      const csvKey = rosterKey(input.stem);
      const result = await handler(
        {
          path: input.path,
          bytes: input.size,
          fileName: input.fileName,
          csvKey,
          collection: input.request.collection,
        },
        timings,
      );
      const { image, facesFound, galleryVersion, collection, video } = result;
      return {
        reply: { image, facesFound, faces: [], galleryVersion, collection, video },
        store: { key: csvKey, body: result.csv, contentType: 'text/csv; charset=utf-8' },
        log: {
          key: input.request.key,
          csvKey,
          frames: video.framesSeen,
          students: video.students.length,
          unknownFaces: video.unknown.faces,
        },
      };
    },
  };
}
