/** The web console's files. */
import { errorAnswer, errorText, type Operations } from '../api/operation.js';

export const CONSOLE_API = {
  '/console': {
    get: {
      summary: 'The web console',
      description: 'The page is `/console/` (text/html); `/console` is sent there.',
      tag: 'console',
      answers: { 301: { description: 'to /console/, the page' } },
      examples: { page: { summary: 'the console’s address', status: 301 } },
    },
  },
  '/console/{file}': {
    get: {
      summary: 'The web console’s script and style sheet',
      tag: 'console',
      answers: { 200: { description: 'the file', type: 'text/javascript' }, 404: errorAnswer('no such file') },
      examples: {
        script: { summary: 'the script', path: { file: 'main.js' }, status: 200 },
        missing: {
          summary: 'a file it does not have',
          path: { file: 'nothing.js' },
          headers: { Accept: 'text/plain' },
          status: 404,
          text: errorText('NOT_FOUND', { path: '/console/nothing.js' }),
        },
      },
    },
  },
} satisfies Operations;
