/**
 * The web console at /console/ (src/console/): its TypeScript and style sheets, uPlot's included, bundled by
 * esbuild when the web tier starts (about a second, in memory, nothing written), so that there is no build step
 * to forget and no file from elsewhere: the page loads nothing from a CDN and works offline.
 *
 * Served with a strict Content-Security-Policy: scripts only from this origin, no inline script, no framing.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';
import { Router, type Response } from 'express';
import type { Logger } from '../../shared/logger.js';
import { AppError } from '../../shared/wire/errors.js';
import { mount } from '../api/operation.js';
import { CONSOLE_API } from './console-api.js';

const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

interface ConsoleFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

export interface ConsoleBundle {
  /** The page's files by name (`index.html`, `main.js`, `main.css`); rejects if the build failed. */
  readonly files: Promise<ReadonlyMap<string, ConsoleFile>>;
}

/** One build per process, whatever number of web tiers it runs (tests run several). */
let built: Promise<ReadonlyMap<string, ConsoleFile>> | undefined;

export function buildConsole(logger: Logger): ConsoleBundle {
  if (!built) {
    const started = performance.now();
    built = bundle().then((map) => {
      logger.info(
        {
          ms: Math.round(performance.now() - started),
          bytes: Object.fromEntries([...map].map(([n, f]) => [n, f.body.length])),
        },
        'web console built (/console/)',
      );
      return map;
    });
    built.catch((err: unknown) => logger.error({ err }, 'the web console could not be built; /console/ answers 500'));
  }
  return { files: built };
}

async function bundle(): Promise<ReadonlyMap<string, ConsoleFile>> {
  try {
    const [result, html] = await Promise.all([
      build({
        entryPoints: { main: `${CONSOLE_DIR}main.ts` },
        bundle: true,
        format: 'esm',
        target: 'es2022',
        minify: true,
        write: false,
        outdir: '/console',
        logLevel: 'silent',
        legalComments: 'none',
      }),
      readFile(`${CONSOLE_DIR}index.html`),
    ]);
    const map = new Map<string, ConsoleFile>([['index.html', file(html, 'text/html; charset=utf-8')]]);
    for (const out of result.outputFiles) {
      const name = out.path.slice(out.path.lastIndexOf('/') + 1);
      const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
      map.set(name, file(Buffer.from(out.contents), type));
    }
    return map;
  } finally {
    // esbuild keeps a helper process for later builds; there are none.
    await stop();
  }
}

function file(body: Buffer, type: string): ConsoleFile {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; " +
    "media-src 'self' blob: mediastream:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // The camera view asks for the camera; nothing else on the page may.
  'Permissions-Policy': 'camera=(self), microphone=(), geolocation=()',
};

export function consoleRoute(bundle: ConsoleBundle): Router {
  const router = Router();
  const send = async (res: Response, name: string, ifNoneMatch: string | undefined) => {
    const f = (await bundle.files).get(name);
    if (!f) return false;
    res.set({ ...SECURITY_HEADERS, 'Cache-Control': 'no-cache', ETag: f.etag });
    if (ifNoneMatch === f.etag) res.status(304).end();
    else res.type(f.type).send(f.body);
    return true;
  };
  // Express matches "/console" and "/console/" alike; the page's relative links need the slash.
  return mount(router, CONSOLE_API, {
    '/console': {
      get: async (req, res) => {
        if (!req.path.endsWith('/')) res.redirect(301, '/console/');
        else await send(res, 'index.html', req.get('if-none-match'));
      },
    },
    '/console/{file}': {
      get: async (req, res) => {
        if (!(await send(res, String(req.params['file']), req.get('if-none-match'))))
          throw new AppError('NOT_FOUND', { path: req.path });
      },
    },
  });
}
