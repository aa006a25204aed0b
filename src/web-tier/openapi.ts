/**
 * The OpenAPI 3.1 description of the web tier's HTTP API, served at GET /openapi.json, rendered from the
 * operations each room of the web tier declares beside its routes (`*-api.ts`, operation.ts): their answers'
 * schemas (api-schemas.ts, through zod's JSON Schema output), their error sentences (the error catalogue's
 * own), and an example per case. An example's name ties a request example
 * (its parameters, headers and body) to the answer it gets; test/integration/openapi.test.ts sends every
 * example to a real stack and checks the answer is as described, and that every route of the app is here.
 *
 * Example uploads name files of the course workload (`test_000.jpg`) and of LFW (`Aaron_Peirsol_0001.jpg`), and
 * videos the test makes from them (`classroom.mp4`: test_000 for two seconds).
 */
import { z } from 'zod';
import { SERVER_TIMING_HEADER, STATE_HEADER, ERROR_CODE_HEADER } from '../shared/wire/answer-metrics.js';
import { CONSOLE_API } from './console/console-api.js';
import { MONITORING_API } from './monitoring/monitoring-api.js';
import { OPERATIONS_API } from './operations/operations-api.js';
import { PEOPLE_API } from './people/people-api.js';
import { RECOGNITION_API } from './recognition/recognition-api.js';
import {
  collectionDeletedSchema,
  collectionSchema,
  collectionsListSchema,
  enrollmentSchema,
  errorSchema,
  errorsReportSchema,
  faceRemovedSchema,
  liveSchema,
  overviewSchema,
  peopleListSchema,
  personRemovedSchema,
  personSchema,
  recognitionSchema,
  statusSchema,
  stagesSchema,
  storedSchema,
  timelineSchema,
  videoSchema,
  workersReportSchema,
  webProcessesReportSchema,
} from './api/api-schemas.js';
import type { Example, Operations, Schema } from './api/operation.js';

/** Every operation, by path and method, in the order the examples run (enrollment before its reads). */
export const OPERATIONS: Operations = {
  ...RECOGNITION_API,
  ...PEOPLE_API,
  ...OPERATIONS_API,
  ...MONITORING_API,
  ...CONSOLE_API,
};

const SCHEMAS = [
  errorSchema,
  recognitionSchema,
  peopleListSchema,
  personSchema,
  enrollmentSchema,
  personRemovedSchema,
  faceRemovedSchema,
  statusSchema,
  liveSchema,
  overviewSchema,
  timelineSchema,
  stagesSchema,
  workersReportSchema,
  webProcessesReportSchema,
  errorsReportSchema,
  storedSchema,
  videoSchema,
  collectionSchema,
  collectionsListSchema,
  collectionDeletedSchema,
];

/** The zod schema of each named component: what the OpenAPI test checks answers against. */
export const COMPONENT_SCHEMAS: ReadonlyMap<string, Schema> = new Map(
  SCHEMAS.map((s) => [String((z.globalRegistry.get(s) as { id?: string } | undefined)?.id), s]),
);

/** The document, built once. */
export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  // Every schema with an id (api-schemas.ts gives each one) becomes a component, and refers to the others.
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    uri: (id: string) => `#/components/schemas/${id}`,
    unrepresentable: 'any',
  }) as { schemas: Record<string, Record<string, unknown>> };
  const components = Object.fromEntries(
    // A component is a schema inside the document: no dialect, id or address of its own.
    Object.entries(schemas).map(([id, schema]) => [
      id,
      Object.fromEntries(Object.entries(schema).filter(([k]) => !['$schema', '$id', 'id'].includes(k))),
    ]),
  );
  const ref = (schema: Schema) => ({
    $ref: `#/components/schemas/${(z.globalRegistry.get(schema) as { id: string }).id}`,
  });
  const headers = {
    [SERVER_TIMING_HEADER]: { $ref: '#/components/headers/ServerTiming' },
    [STATE_HEADER]: { $ref: '#/components/headers/State' },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, methods] of Object.entries(OPERATIONS)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(methods)) {
      const examples = Object.entries(op.examples);
      const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      const exampleValues = (pick: (e: Example) => string | undefined) =>
        Object.fromEntries(
          examples.flatMap(([name, e]) =>
            pick(e) === undefined ? [] : [[name, { summary: e.summary, value: pick(e) }]],
          ),
        );
      const headerNames = [...new Set(examples.flatMap(([, e]) => Object.keys(e.headers ?? {})))];
      const parameters = [
        ...pathParams.map((p) => ({
          name: p,
          in: 'path',
          required: true,
          schema: { type: 'string' },
          examples: exampleValues((e) => e.path?.[p]),
        })),
        ...Object.entries(op.query ?? {}).map(([q, spec]) => {
          const type = typeof spec === 'string' ? 'number' : spec.type;
          // A number's examples are numbers (the address carries them as text; the test sends them so).
          const examples = Object.fromEntries(
            Object.entries(exampleValues((e) => e.query?.[q])).map(([name, x]) => [
              name,
              type === 'number' ? { ...x, value: Number(x.value) } : x,
            ]),
          );
          return {
            name: q,
            in: 'query',
            required: false,
            description: typeof spec === 'string' ? spec : spec.description,
            schema: { type },
            examples,
          };
        }),
        ...headerNames.map((hd) => ({
          name: hd,
          in: 'header',
          required: false,
          schema: { type: 'string' },
          examples: exampleValues((e) => e.headers?.[hd]),
        })),
      ];
      const responses: Record<string, unknown> = {};
      for (const [status, answer] of Object.entries(op.answers)) {
        const mine = examples.filter(([, e]) => String(e.status) === status);
        const exampleMap = Object.fromEntries(
          mine.map(([name, e]) => [name, { summary: e.summary, ...(e.text === undefined ? {} : { value: e.text }) }]),
        );
        const content: Record<string, unknown> = {};
        if (answer.schema) {
          content['application/json'] = {
            schema: ref(answer.schema),
            examples: Object.fromEntries(
              mine.filter(([, e]) => e.text === undefined && !e.type).map(([n, e]) => [n, { summary: e.summary }]),
            ),
          };
          content['text/plain'] = {
            schema: { type: 'string' },
            examples: Object.fromEntries(
              mine.filter(([, e]) => e.text !== undefined).map(([n, e]) => [n, { summary: e.summary, value: e.text }]),
            ),
          };
          for (const [n, e] of mine.filter(([, e]) => e.type)) {
            const media = (content[e.type!] ??= { schema: { type: 'string' }, examples: {} }) as {
              examples: Record<string, unknown>;
            };
            media.examples[n] = { summary: e.summary };
          }
        } else if (answer.type) {
          content[answer.type] = { schema: { type: 'string' }, examples: exampleMap };
        }
        responses[status] = {
          description: answer.description,
          headers:
            Number(status) >= 400
              ? { ...headers, [ERROR_CODE_HEADER]: { $ref: '#/components/headers/ErrorCode' } }
              : headers,
          ...(Object.keys(content).length > 0 ? { content } : {}),
          ...(Object.keys(content).length === 0 ? { 'x-examples': Object.keys(exampleMap) } : {}),
        };
      }
      paths[path][method] = {
        operationId:
          `${method}${path.replace(/[^a-zA-Z]+(\w)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}` ||
          method,
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        tags: [op.tag],
        // Every operation says what it needs; an empty list: nothing, it is public.
        security: op.key === 'always' ? [{ apiKey: [] }] : op.key === 'for-changes' ? [{ apiKey: [] }, {}] : [],
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(op.body
          ? {
              requestBody: {
                required: true,
                content: {
                  [op.body.type]: {
                    schema: op.body.schema,
                    examples: Object.fromEntries(
                      examples
                        .filter(([, e]) => e.files !== undefined || e.json !== undefined)
                        .map(([name, e]) => [name, { summary: e.summary, value: e.json ?? e.files }]),
                    ),
                  },
                },
              },
            }
          : {}),
        responses,
      };
    }
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'facefleet',
      version: '1',
      description:
        'An elastic face-recognition web service. Every answer carries the server’s metrics: `Server-Timing` (the web tier’s and the worker’s stages) and `Facefleet-State` (queue depth, workers, the worker that answered, the gallery version). Errors are one sentence, in plain text or, with `Accept: application/json`, as JSON. Example uploads name files of the course workload (`test_000.jpg`) and of LFW.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    tags: [
      { name: 'recognition', description: 'Faces in a photo or a classroom video, named against a collection.' },
      {
        name: 'people',
        description: 'The enrollment API of the default collection; on when the server has API_KEY set.',
      },
      { name: 'collections', description: 'Collections, and the enrollment API inside each; API_KEY as for people.' },
      { name: 'operations', description: 'Health, readiness, the fleet’s state, metrics and this description.' },
      { name: 'monitoring', description: 'What clients saw, reported to and read back from the monitoring server.' },
      { name: 'console', description: 'The web console, a page for people.' },
    ],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description: 'API_KEY; `Authorization: Bearer <key>` works too.',
        },
      },
      headers: {
        ServerTiming: {
          description:
            'W3C Server-Timing: validate, upload, enqueue, wait (web tier); queue, download, decode, detect, landmarks, embed, match, store (worker); total. Milliseconds.',
          schema: {
            type: 'string',
            examples: ['validate;dur=0.4, upload;dur=3.1, enqueue;dur=2.2, wait;dur=70.4, total;dur=76.5'],
          },
        },
        State: {
          description:
            'An RFC 8941 dictionary: queue-visible, queue-in-flight, workers-starting, workers-running (as the autoscaler last saw them), worker (that answered), gallery (the version of the collection it matched against), collection, state-age-ms.',
          schema: {
            type: 'string',
            examples: [
              'queue-visible=0, queue-in-flight=1, workers-starting=0, workers-running=1, worker="local-worker-1", gallery=3, state-age-ms=412',
            ],
          },
        },
        ErrorCode: {
          description: 'The error’s code in the catalogue (docs/api.md).',
          schema: { type: 'string', examples: ['NO_FACE'] },
        },
      },
    },
  };
}
