/**
 * An operation of the HTTP API as data: what it is for, what it needs, what it answers, and an example per
 * case. Each room of the web tier declares its operations beside its routes (`*-api.ts`) and mounts its
 * handlers with `mount`, whose type asks for a handler for every operation and takes none without one: a
 * route without a description, or the reverse, does not compile. openapi.ts renders the operations as the
 * OpenAPI document; test/integration/openapi.test.ts sends every example to a real stack.
 */
import type { RequestHandler, Router } from 'express';
import type { z } from 'zod';
import { AppError, type ErrorCode } from '../../shared/wire/errors.js';
import { methodNotAllowed } from '../../http/http-errors.js';
import { errorSchema } from './api-schemas.js';

/** The API key in the examples; the OpenAPI test runs a stack whose API_KEY is this. */
export const EXAMPLE_API_KEY = 'example-api-key-0123456789';
/** A fixed time for the examples' reports (2026-11-27 12:00 UTC). */
export const EXAMPLE_AT = Date.UTC(2026, 10, 27, 12);

export type Schema = z.ZodType;

export interface Answer {
  readonly description: string;
  /** JSON answers' schema; text answers have none. */
  readonly schema?: Schema;
  readonly type?: string;
}

export interface Example {
  readonly summary: string;
  readonly path?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  /** A multipart body: field → file name(s); or a JSON body. */
  readonly files?: Record<string, string | string[]>;
  readonly json?: unknown;
  readonly status: number;
  /** The answer's whole text, where it is always the same. */
  readonly text?: string;
  /** The answer's media type where it is neither JSON nor plain text (a CSV), and its text varies. */
  readonly type?: string;
}

export interface Operation {
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly key?: 'always' | 'for-changes';
  /** Query parameters: their description (a number), or their description and type. */
  readonly query?: Record<string, string | { readonly description: string; readonly type: 'string' | 'number' }>;
  readonly body?: {
    readonly type: 'multipart/form-data' | 'application/json';
    readonly schema: Record<string, unknown>;
  };
  readonly answers: Record<number, Answer>;
  readonly examples: Record<string, Example>;
}

export type Method = 'get' | 'post' | 'delete';
/** Operations by path (OpenAPI's `{param}` syntax) and method. */
export type Operations = Readonly<Record<string, Readonly<Partial<Record<Method, Operation>>>>>;
/** A handler chain for each operation of `T`, and nothing else. */
export type Handlers<T extends Operations> = {
  readonly [P in keyof T]: { readonly [M in keyof T[P]]: RequestHandler | readonly RequestHandler[] };
};

/** The order of methods in an `Allow` header. */
const METHOD_ORDER: readonly Method[] = ['get', 'post', 'delete'];

/**
 * Registers each operation's handlers on `router`, at its path in Express's syntax (`{name}` → `:name`), and
 * answers any other method on that path with 405 and an `Allow` header naming the operations' methods.
 */
export function mount<T extends Operations>(router: Router, operations: T, handlers: Handlers<T>): Router {
  for (const [path, methods] of Object.entries(operations)) {
    const expressPath = path.replace(/\{(\w+)\}/g, ':$1');
    const byMethod = handlers[path] as Readonly<Record<string, RequestHandler | readonly RequestHandler[]>>;
    const taken = METHOD_ORDER.filter((m) => methods[m] !== undefined);
    for (const method of taken) router[method](expressPath, ...[byMethod[method]!].flat());
    router.all(expressPath, methodNotAllowed(taken.map((m) => m.toUpperCase()).join(', ')));
  }
  return router;
}

/** The sentence of an error, as the catalogue words it. */
export const errorText = (code: ErrorCode, params: Record<string, string | number> = {}) =>
  new AppError(code, params as never).message;
export const errorAnswer = (description: string): Answer => ({ description, schema: errorSchema });
/** The header of an example sent with the API key. */
export const keyHeader = { 'X-API-Key': EXAMPLE_API_KEY };

export const uploadSchema = (field: string, many: boolean) => ({
  type: 'object',
  required: [field],
  properties: {
    [field]: many
      ? {
          type: 'array',
          items: { type: 'string', contentMediaType: 'application/octet-stream' },
          minItems: 1,
          maxItems: 10,
        }
      : { type: 'string', contentMediaType: 'application/octet-stream', description: 'a JPEG, PNG or WebP image' },
  },
});

export const collectionQuery = {
  description: 'the collection to match against (default: `default`); 404 when it does not exist',
  type: 'string',
} as const;
