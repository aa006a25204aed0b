/**
 * POST /videos: a classroom video in the multipart field "inputFile" (MP4, MOV or WebM), answered with who is
 * in it: JSON by default, or the CSV the worker stored in the out-bucket with `Accept: text/csv`. The upload
 * is kept in a temporary file, never whole in memory; its container header is read (ffprobe, locked down) and
 * held to the limits (size, duration, resolution) before anything is stored or queued. It goes to the
 * in-bucket under `uploads/<requestId>/`, not `videos/`: on AWS a video put under `videos/` is processed by S3's
 * event, and this one is processed by the `video` request sent here, on the video queue (app-tier-client/client.ts): every
 * worker polls it beside the request queue, so images are answered while a video is being looked at.
 */
import { rm } from 'node:fs/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { RequestHandler } from 'express';
import { AppError } from '../../shared/wire/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { inBucketKey, UPLOADS_PREFIX } from '../../shared/wire/messages.js';
import { checkVideoLimits, PROBE_TIMEOUT_MS, probeVideo, type VideoLimits } from '../../shared/video/probe.js';
import type { VideoTool, VideoToolError } from '../../shared/video/tools.js';
import { acceptedUpload } from '../requests/uploads.js';
import { collectionOf } from '../requests/collection-param.js';
import type { AppTierClient } from '../app-tier-client/client.js';

export interface VideoRouteDeps {
  readonly appTier: AppTierClient;
  readonly s3: S3Client;
  readonly logger: Logger;
  readonly outBucket: string;
  /** ffprobe, or why there is none (then every video is answered 503). */
  readonly ffprobe: VideoTool | VideoToolError;
  readonly limits: VideoLimits;
  readonly toolMemoryBytes: number;
  readonly videoResultTimeoutSeconds: number;
}

const CONTENT_TYPES = { mp4: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm' } as const;

export function videoRoute(deps: VideoRouteDeps): RequestHandler {
  return async (req, res) => {
    const { timer, requestId, file, fileName, stem } = acceptedUpload(req, res);
    // The temporary file goes whatever the answer.
    res.once('close', () => void rm(file.path, { force: true }));
    if (!('path' in deps.ffprobe)) throw new AppError('VIDEO_TOOLS_MISSING', { detail: deps.ffprobe.message });
    let info;
    try {
      if (file.size === 0) throw new AppError('EMPTY_FILE', { file: fileName });
      info = await probeVideo(deps.ffprobe, file.path, {
        timeoutMs: PROBE_TIMEOUT_MS,
        memoryBytes: deps.toolMemoryBytes,
      });
      checkVideoLimits(info, file.size, deps.limits);
    } catch (err) {
      // The sentence names the file the client sent (an error without a file in it drops the parameter).
      if (err instanceof AppError && err.params['file'] === undefined)
        throw AppError.fromReport(err.code, { ...err.params, file: fileName }, err);
      throw err;
    } finally {
      timer.record('validate', performance.now() - timer.startedAt);
    }

    deps.appTier.cancelWhenClientLeaves(res, [requestId]);
    const answer = await deps.appTier.ask({
      requestId,
      key: inBucketKey(`${UPLOADS_PREFIX}${requestId}`, fileName),
      fileName,
      body: { path: file.path },
      contentType: CONTENT_TYPES[info.container],
      task: 'video',
      faces: 'all',
      collection: collectionOf(res),
      timer,
      resultTimeoutSeconds: deps.videoResultTimeoutSeconds,
    });
    const video = answer.video;
    if (!video) throw new AppError('INTERNAL', {}, new Error(`a video's answer from ${answer.workerId} has no roster`));
    deps.logger.info(
      { requestId, stem, students: video.students.length, frames: video.framesSeen, workerId: answer.workerId },
      'answered',
    );
    if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
      const csv = await deps.s3.send(new GetObjectCommand({ Bucket: deps.outBucket, Key: video.csvKey }));
      res
        .attachment(video.csvKey)
        .type('text/csv; charset=utf-8')
        .send(await csv.Body!.transformToString());
      return;
    }
    res.json({
      requestId,
      name: stem,
      ...video,
      image: answer.image,
      facesFound: answer.facesFound,
      collection: answer.collection,
      galleryVersion: answer.galleryVersion,
      workerId: answer.workerId,
      timings: timer.answerTimings(answer.timings),
    });
  };
}
