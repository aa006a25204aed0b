/** POST / (the course contract) and POST /videos: what they take and answer. */
import { recognitionSchema, videoSchema } from '../api/api-schemas.js';
import { collectionQuery, errorAnswer, errorText, keyHeader, type Operations, uploadSchema } from '../api/operation.js';

export const RECOGNITION_API = {
  '/': {
    post: {
      summary: 'Recognise the faces in one image',
      description:
        'The course contract: one image in the multipart field `inputFile`, answered with `<stem>:<label>` in plain text, the most prominent face’s name or `Unknown`. With `Accept: application/json`, every face with its box, label, similarity and top-3 candidates.',
      tag: 'recognition',
      query: { collection: collectionQuery },
      body: { type: 'multipart/form-data', schema: uploadSchema('inputFile', false) },
      answers: {
        200: {
          description: 'the answer: `<stem>:<label>` (text/plain), or every face (JSON)',
          schema: recognitionSchema,
        },
        400: errorAnswer('no file, a malformed upload, or an invalid collection name'),
        404: errorAnswer('no such collection'),
        413: errorAnswer('larger than MAX_UPLOAD_BYTES'),
        415: errorAnswer('not a JPEG, PNG or WebP image'),
        422: errorAnswer('no face in the image, or nobody enrolled'),
        503: errorAnswer('the server is at its limits or shutting down (Retry-After)'),
        504: errorAnswer('no worker answered within RESULT_TIMEOUT_SECONDS'),
      },
      examples: {
        course: { summary: 'a course image', files: { inputFile: 'test_000.jpg' }, status: 200, text: 'test_000:Paul' },
        everyFace: {
          summary: 'every face, as JSON',
          files: { inputFile: 'test_001.jpg' },
          headers: { Accept: 'application/json' },
          status: 200,
        },
        notAnImage: {
          summary: 'a text file',
          files: { inputFile: 'notes.txt' },
          status: 415,
          text: errorText('NOT_AN_IMAGE', { file: 'notes.txt' }),
        },
        noFile: { summary: 'no file in the form', files: {}, status: 400, text: errorText('MISSING_FILE') },
        noFace: {
          summary: 'a picture of a wall',
          files: { inputFile: 'wall.jpg' },
          status: 422,
          text: errorText('NO_FACE', { file: 'wall.jpg' }),
        },
        noCollection: {
          summary: 'a collection nobody created',
          query: { collection: 'nowhere' },
          files: { inputFile: 'test_000.jpg' },
          status: 404,
          text: errorText('COLLECTION_NOT_FOUND', { name: 'nowhere' }),
        },
      },
    },
    get: {
      summary: 'Open the web console',
      description: 'A browser (asking for text/html) is sent to /console/; any other client is told to POST.',
      tag: 'console',
      answers: { 303: { description: 'to /console/' }, 405: errorAnswer('not a browser: use POST') },
      examples: {
        browser: { summary: 'a browser', headers: { Accept: 'text/html' }, status: 303 },
        script: {
          summary: 'a script',
          headers: { Accept: 'text/plain' },
          status: 405,
          text: errorText('METHOD_NOT_ALLOWED', { method: 'GET', path: '/', allow: 'POST' }),
        },
      },
    },
  },
  '/videos': {
    post: {
      summary: 'Who is in a classroom video, with their student records',
      description:
        'One MP4, MOV or WebM video in the multipart field `inputFile`. Its header is checked first (VIDEO_MAX_BYTES, VIDEO_MAX_SECONDS, VIDEO_MAX_DIMENSION); then a worker looks at a frame every VIDEO_FRAME_SECONDS from the first, names every face, counts each person once (first seen, best similarity) and the unknown faces apart, and stores `rosters/<stem>.csv` with each student’s record in the out-bucket. The answer is that roster as JSON, or the CSV itself with `Accept: text/csv`. It needs the API key (VIDEOS_REQUIRE_KEY): the records are personal.',
      tag: 'videos',
      key: 'always',
      query: { collection: collectionQuery },
      body: {
        type: 'multipart/form-data',
        schema: {
          type: 'object',
          required: ['inputFile'],
          properties: {
            inputFile: {
              type: 'string',
              contentMediaType: 'application/octet-stream',
              description: 'an MP4, MOV or WebM video',
            },
          },
        },
      },
      answers: {
        200: { description: 'the roster (JSON), or its CSV (`Accept: text/csv`)', schema: videoSchema },
        400: errorAnswer('no file, an empty one, a malformed upload, or an invalid collection name'),
        401: errorAnswer('no API key'),
        403: errorAnswer('a wrong API key, or none on the server'),
        404: errorAnswer('no such collection'),
        413: errorAnswer('larger than VIDEO_MAX_BYTES'),
        415: errorAnswer('not an MP4, MOV or WebM video'),
        422: errorAnswer(
          'damaged or truncated, no picture, too long or too large a picture, no frame or no face, or nobody enrolled',
        ),
        503: errorAnswer('the server is at its limits, shutting down, or has no video tools'),
        504: errorAnswer('no worker answered within VIDEO_RESULT_TIMEOUT_SECONDS'),
      },
      examples: {
        classroom: {
          summary: 'a class of one',
          headers: keyHeader,
          files: { inputFile: 'classroom.mp4' },
          status: 200,
        },
        classroomCsv: {
          summary: 'the same, as the CSV',
          files: { inputFile: 'classroom.mp4' },
          headers: { ...keyHeader, Accept: 'text/csv' },
          status: 200,
          type: 'text/csv',
        },
        noKey: {
          summary: 'without the API key',
          files: { inputFile: 'classroom.mp4' },
          status: 401,
          text: errorText('API_KEY_MISSING'),
        },
        notAVideo: {
          summary: 'a text file',
          headers: keyHeader,
          files: { inputFile: 'notes.txt' },
          status: 415,
          text: errorText('NOT_A_VIDEO', { file: 'notes.txt' }),
        },
        emptyRoom: {
          summary: 'two seconds of an empty room',
          headers: keyHeader,
          files: { inputFile: 'empty-room.mp4' },
          status: 422,
          text: errorText('VIDEO_NO_FACES', { file: 'empty-room.mp4', frames: 2 }),
        },
      },
    },
  },
} satisfies Operations;
