/**
 * The OpenAPI description is the API: every route the app has is in it, and every example in it, sent to a
 * real stack as the document describes it (parameters, headers, body), is answered as the document says
 * (status, content type, the exact sentence where it gives one, the JSON schema where it names one).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../src/local/stack.js';
import { COMPONENT_SCHEMAS } from '../../src/web-tier/openapi.js';
import { EXAMPLE_API_KEY } from '../../src/web-tier/api/operation.js';
import { newScratchDir } from '../helpers/data-dirs.js';
import { COURSE_IMAGES, LFW_IMAGES } from '../helpers/fixtures.js';
import { makeClip } from '../../scripts/lib/clips.js';
import { findTool } from '../../src/shared/video/tools.js';

/** The ffmpeg that makes the example videos: the system's, else the npm build. */
const ffmpegPath = () => findTool('ffmpeg').path;
import { enrollCourseSubset, startTestStack } from '../helpers/stack.js';

interface ExampleObject {
  summary?: string;
  value?: unknown;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  examples?: Record<string, ExampleObject>;
}
interface MediaType {
  schema?: { $ref?: string };
  examples?: Record<string, ExampleObject>;
}
interface OperationObject {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, MediaType>; 'x-examples'?: string[] }>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, OperationObject>> };

const clips = newScratchDir('facefleet-openapi-');

/** What the document's example uploads name. */
async function fixture(name: string): Promise<Uint8Array> {
  if (name.startsWith('test_')) return readFileSync(`${COURSE_IMAGES}${name}`);
  if (name === 'classroom.mp4')
    return readFileSync(
      await makeClip(ffmpegPath(), [{ image: `${COURSE_IMAGES}test_000.jpg`, seconds: 2 }], join(clips, name)),
    );
  if (name === 'empty-room.mp4') return readFileSync(await makeClip(ffmpegPath(), [{ seconds: 2 }], join(clips, name)));
  if (name === 'notes.txt') return new TextEncoder().encode('these are notes, not a photo');
  if (name === 'wall.jpg')
    return sharp({ create: { width: 200, height: 200, channels: 3, background: '#777' } })
      .jpeg()
      .toBuffer();
  return readFileSync(`${LFW_IMAGES}${name}`);
}

/** Each example of an operation, with the answer it is documented to get. */
function examplesOf(op: OperationObject) {
  const answers = new Map<string, { status: number; type?: string; text?: unknown; schema?: string }>();
  for (const [status, response] of Object.entries(op.responses)) {
    for (const name of response['x-examples'] ?? []) answers.set(name, { status: Number(status) });
    for (const [type, media] of Object.entries(response.content ?? {})) {
      for (const [name, example] of Object.entries(media.examples ?? {})) {
        answers.set(name, {
          status: Number(status),
          type,
          text: example.value,
          schema: media.schema?.$ref?.split('/').pop(),
        });
      }
    }
  }
  return answers;
}

describe('the OpenAPI description', () => {
  let stack: LocalStack;
  let doc: Doc;

  beforeAll(async () => {
    stack = await startTestStack({ API_KEY: EXAMPLE_API_KEY });
    await enrollCourseSubset(stack, 20);
    await stack.fleet.whenRunning(2);
    const res = await fetch(`${stack.web.url}/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
  }, 180_000);

  afterAll(async () => {
    rmSync(clips, { recursive: true, force: true });
    await stack?.stop();
  });

  it('is valid OpenAPI 3.1, with a schema for every component it refers to', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    // A validator of its own (it checks the document against the OpenAPI 3.1 schema and resolves every $ref).
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
    const text = JSON.stringify(doc);
    const components = (doc as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas;
    for (const [, ref] of text.matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g))
      expect(components).toHaveProperty(ref!);
  });

  it('describes every route of the app', () => {
    const routes: string[] = [];
    interface Layer {
      route?: { path: string | string[]; methods: Record<string, boolean>; stack: { handle: { name: string } }[] };
      handle?: { stack?: Layer[] };
    }
    const walk = (stack: Layer[]) => {
      for (const layer of stack) {
        // The routes that only answer 405 for the methods a path does not take are not operations.
        if (layer.route?.stack.every((l) => l.handle.name === 'methodNotAllowedHandler')) continue;
        if (layer.route) {
          for (const method of Object.keys(layer.route.methods).filter((m) => m !== '_all'))
            for (const path of [layer.route.path].flat()) routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
        } else if (layer.handle?.stack) walk(layer.handle.stack);
      }
    };
    walk((stack.web.inProcess!.app as unknown as { router: { stack: never[] } }).router.stack);
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m} ${path}`),
    );
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((d) => !routes.includes(d))).toEqual([]);
  });

  it('answers every example as described', async () => {
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const answers = examplesOf(op);
        expect(answers.size, `${method} ${path} has no example`).toBeGreaterThan(0);
        for (const [name, expected] of answers) {
          const what = `${method.toUpperCase()} ${path} (${name})`;
          const param = (where: Parameter['in']) =>
            (op.parameters ?? []).flatMap((p) =>
              p.in === where && p.examples?.[name] ? [[p.name, String(p.examples[name].value)] as const] : [],
            );
          let url = path;
          for (const [p, v] of param('path')) url = url.replace(`{${p}}`, encodeURIComponent(v));
          const query = new URLSearchParams(param('query').map(([k, v]) => [k, v] as [string, string])).toString();
          const headers = new Headers(param('header').map(([k, v]) => [k, v] as [string, string]));
          let body: string | FormData | undefined;
          for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
            const value = media.examples?.[name]?.value;
            if (value === undefined) continue;
            if (type === 'application/json') {
              body = JSON.stringify(value);
              headers.set('Content-Type', 'application/json');
            } else {
              const form = new FormData();
              for (const [field, files] of Object.entries(value as Record<string, string | string[]>))
                for (const file of [files].flat()) form.append(field, new Blob([await fixture(file)]), file);
              if (form.entries().next().done) form.append('note', 'no file');
              body = form;
            }
          }
          const res = await fetch(`${stack.web.url}${url}${query ? `?${query}` : ''}`, {
            method: method.toUpperCase(),
            headers,
            body,
            redirect: 'manual',
          });
          const text = await res.text();
          expect(res.status, `${what}: ${text.slice(0, 300)}`).toBe(expected.status);
          expect(res.headers.get('server-timing'), what).toMatch(/total;dur=/);
          if (res.status >= 400) expect(res.headers.get('facefleet-error-code'), what).toMatch(/^[A-Z_]+$/);
          if (expected.type) expect(res.headers.get('content-type'), what).toContain(expected.type.split(';')[0]);
          if (typeof expected.text === 'string') expect(text, what).toBe(expected.text);
          if (expected.schema && expected.type === 'application/json') {
            const schema = COMPONENT_SCHEMAS.get(expected.schema);
            expect(schema, `${what}: no schema ${expected.schema}`).toBeDefined();
            const parsed = schema!.safeParse(JSON.parse(text));
            expect(parsed.success, `${what}: ${parsed.error?.message}`).toBe(true);
          }
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
  }, 120_000);
});
