// Helpers shared by the feature tests (test/features): a validator of API answers against the
// OpenAPI document, the routes Fastify registered, and a sink that captures a log.
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import type { Api, ApiResponse } from '../helpers/herald.js';

// ---- OpenAPI ---------------------------------------------------------------------------

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

/** Replaces every `#/components/schemas/X` reference by `X`, the id under which X is registered. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '$ref' && typeof v === 'string') {
      const m = /^#\/components\/schemas\/(.+)$/.exec(v);
      assert.ok(m, `unexpected $ref ${v}: only #/components/schemas/… is resolved`);
      out[k] = m[1];
    } else {
      out[k] = rewriteRefs(v);
    }
  }
  return out;
}

export interface CheckedCall {
  method: string;
  path: string;
  status: number;
  template: string;
}

/**
 * Validates answers against an OpenAPI 3.1 document: finds the operation of a concrete
 * path, the response of the status (exact, then `4XX`, then `default`), and checks the media
 * type and the body against its schema, with `$ref`s to components resolved.
 */
export class OpenApiValidator {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();
  readonly checked: CheckedCall[] = [];

  constructor(readonly doc: any) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
      const { $id: _ignored, ...rest } = rewriteRefs(schema) as Record<string, unknown>;
      this.ajv.addSchema(rest, name);
    }
  }

  /** The path template of the document that a concrete path (query excluded) matches; a literal segment wins over a parameter, as in the router. */
  template(path: string): string | null {
    const parts = path.split('?')[0]!.split('/');
    let best: { t: string; params: number } | null = null;
    for (const t of Object.keys(this.doc.paths)) {
      const tp = t.split('/');
      if (tp.length !== parts.length) continue;
      const isParam = (seg: string) => /^\{[^}]+\}$/.test(seg);
      if (!tp.every((seg, i) => (isParam(seg) ? parts[i] !== '' : seg === parts[i]))) continue;
      const params = tp.filter(isParam).length;
      if (!best || params < best.params) best = { t, params };
    }
    return best?.t ?? null;
  }

  /** Asserts that the answer is one the document describes; returns it. */
  check<T extends ApiResponse>(method: string, path: string, res: T): T {
    const template = this.template(path);
    assert.ok(template, `${method} ${path}: no path of the OpenAPI document matches`);
    const op = this.doc.paths[template][method.toLowerCase()];
    assert.ok(op, `${method} ${template} is not in the OpenAPI document`);
    const key = String(res.status) in op.responses ? String(res.status) : `${String(res.status)[0]}XX` in op.responses ? `${String(res.status)[0]}XX` : 'default';
    const response = op.responses[key];
    assert.ok(response, `${method} ${template} answered ${res.status}, which the document does not list (${Object.keys(op.responses).join(', ')}): ${res.text}`);
    if (!response.content) {
      assert.equal(res.text, '', `${method} ${template} ${res.status}: the document says no content, the answer has a body`);
    } else {
      const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
      const content = response.content[mediaType];
      assert.ok(content, `${method} ${template} ${res.status}: answered ${mediaType}, the document lists ${Object.keys(response.content).join(', ')}`);
      const cacheKey = `${method} ${template} ${key} ${mediaType}`;
      let validate = this.compiled.get(cacheKey);
      if (!validate) {
        validate = this.ajv.compile(rewriteRefs(content.schema) as object);
        this.compiled.set(cacheKey, validate);
      }
      const ok = validate(res.body);
      assert.ok(ok, `${method} ${template} ${res.status}: the body does not match the document's schema: ${this.ajv.errorsText(validate.errors)}\n${res.text.slice(0, 2000)}`);
    }
    this.checked.push({ method: method.toUpperCase(), path, status: res.status, template });
    return res;
  }

  /** An Api whose every answer is checked against the document. */
  wrap(api: Api): Api {
    return async (method, path, body, key, options) => {
      const res = await api(method, path, body, key, options);
      return this.check(method, path, res);
    };
  }
}

/** "/api/v1/workspaces/{ws}" for Fastify's "/api/v1/workspaces/:ws". */
export function toOpenApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * The routes a Fastify app has registered, as "METHOD /full/path", read from
 * app.printRoutes({ commonPrefix: false }) (a tree: each level indents by four characters).
 */
export function registeredRoutes(printed: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of printed.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) out.push(`${method} ${path}`);
  }
  return out;
}

/** Collects everything a stream-like sink is given, as text. */
export class Captured {
  private readonly chunks: string[] = [];
  write(chunk: string | Buffer): boolean {
    this.chunks.push(chunk.toString());
    return true;
  }
  text(): string {
    return this.chunks.join('');
  }
  lines(): any[] {
    return this.text().split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
  }
}
