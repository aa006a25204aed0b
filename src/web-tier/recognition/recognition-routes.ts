/**
 * The recognition room: POST / (the course contract, one image) and POST /videos (a classroom video), as
 * recognition-api.ts describes them; GET / sends a browser to the console.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { Router, type RequestHandler } from 'express';
import { methodNotAllowed } from '../../http/http-errors.js';
import type { Logger } from '../../shared/logger.js';
import { AppError } from '../../shared/wire/errors.js';
import type { VideoLimits } from '../../shared/video/probe.js';
import type { VideoTool, VideoToolError } from '../../shared/video/tools.js';
import { mount } from '../api/operation.js';
import type { AppTierClient } from '../app-tier-client/client.js';
import { requireApiKey } from '../requests/api-key.js';
import { parseUpload } from '../requests/uploads.js';
import { RECOGNITION_API } from './recognition-api.js';
import { recognizeRoute } from './recognize-route.js';
import { videoRoute } from './video-route.js';

/** The course's multipart field name. */
export const UPLOAD_FIELD = 'inputFile';

export interface RecognitionDeps {
  readonly appTier: AppTierClient;
  readonly s3: S3Client;
  readonly outBucket: string;
  readonly logger: Logger;
  readonly maxUploadBytes: number;
  readonly maxImagePixels: number;
  readonly apiKey: string | undefined;
  /** Turns uploads away once shutdown has begun. */
  readonly whileAccepting: RequestHandler;
  /** Caps the uploads being received at once (client-limits.ts). */
  readonly uploadSlots: RequestHandler;
  /** Reads and checks `?collection=` (collection-param.ts). */
  readonly collection: RequestHandler;
  /** Classroom videos: the header reader, the limits, the deadline. */
  readonly video: {
    /** POST /videos needs the API key (its answer holds students' records). */
    readonly requireKey: boolean;
    readonly ffprobe: VideoTool | VideoToolError;
    readonly limits: VideoLimits;
    readonly toolMemoryBytes: number;
    readonly resultTimeoutSeconds: number;
  };
}

export function recognitionRoutes(deps: RecognitionDeps): Router {
  const { whileAccepting, uploadSlots, collection } = deps;
  const upload = parseUpload({
    maxUploadBytes: deps.maxUploadBytes,
    files: { field: UPLOAD_FIELD },
    tooManyFiles: () => new AppError('TOO_MANY_FILES', { limit: 1 }),
  });
  const videoUpload = parseUpload({
    maxUploadBytes: deps.video.limits.maxBytes,
    files: { field: UPLOAD_FIELD },
    tooManyFiles: () => new AppError('TOO_MANY_FILES', { limit: 1 }),
    toDisk: true,
    tooLarge: () => new AppError('VIDEO_TOO_LARGE', { limitBytes: deps.video.limits.maxBytes }),
  });
  // The answer holds students' records: the key is checked before any body is read.
  const videoAuth: RequestHandler = deps.video.requireKey
    ? requireApiKey(deps.apiKey, () => new AppError('VIDEOS_NEED_KEY'))
    : (_req, _res, next) => next();
  const notABrowser = methodNotAllowed('POST');
  return mount(Router(), RECOGNITION_API, {
    '/': {
      // Uploads arriving at once are capped, before any body is read.
      post: [whileAccepting, collection, uploadSlots, upload, recognizeRoute(deps)],
      // A person who opens the web tier's address in a browser gets the console.
      get: (req, res, next) => {
        if (req.accepts(['text/plain', 'application/json', 'text/html']) === 'text/html') {
          res.redirect(303, '/console/');
        } else notABrowser(req, res, next);
      },
    },
    '/videos': {
      post: [
        whileAccepting,
        videoAuth,
        collection,
        uploadSlots,
        videoUpload,
        videoRoute({
          ...deps,
          ffprobe: deps.video.ffprobe,
          limits: deps.video.limits,
          toolMemoryBytes: deps.video.toolMemoryBytes,
          videoResultTimeoutSeconds: deps.video.resultTimeoutSeconds,
        }),
      ],
    },
  });
}
