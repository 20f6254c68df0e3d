// Checks every request's input gets before its route's schema: rules that hold for all
// routes alike, so that no route can forget them. app.ts runs them as a preValidation hook.
import type { FastifyRequest } from 'fastify';
import { HttpError } from './problems.js';

export const MAX_JSON_DEPTH = 128;

/**
 * Body fields holding free-form JSON (event data, a webhook's filter, a topic's sample): they
 * are stored as JSON text, where a NUL is written as the escape \u0000, so they may hold one.
 */
const JSON_PAYLOADS = new Set(['data', 'filter', 'sample']);

const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

/** Throws the 400 of the first rule `req` breaks: JSON nested too deep, or a NUL in text. */
export function checkInput(req: Pick<FastifyRequest, 'body' | 'params' | 'query'>): void {
  // JSON nested deeper than any real payload would overflow the stack of the recursive walks
  // after parsing (JSON.stringify, validation): refuse it as bad input instead of failing with a 500.
  const deep = tooDeep(req.body, MAX_JSON_DEPTH);
  if (deep !== null) refuse(deep, `is nested deeper than ${MAX_JSON_DEPTH} levels`);
  // Text is stored as text, which PostgreSQL refuses to hold a NUL in (SQLite would take it):
  // refuse it in every path parameter, query parameter and body string, on every store alike.
  for (const [where, value] of [['params', req.params], ['query', req.query], ['', req.body]] as const) {
    const path = nulAt(value, where, where === '');
    if (path !== null) refuse(path, NUL_MESSAGE);
  }
}

/**
 * A request body parsed as JSON. A `__proto__` key, or a `constructor` key holding `prototype`,
 * is refused wherever it is: JavaScript code that merges such JSON into an object (Herald's
 * own, or a receiver's) can be made to change the prototype of every object. JSON.parse itself
 * makes them plain keys; refusing them means Herald never stores or sends them.
 */
export function parseJson(text: string): unknown {
  if (text === '') refuse('body', 'is empty', 'the JSON body is empty');
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    refuse('body', 'is not valid JSON', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (/__proto__|constructor|\\u00/i.test(text)) {
    const key = prototypeKey(value);
    if (key !== null) {
      refuse(key, 'is a prototype key, which Herald refuses', `${key}: Herald refuses "__proto__" keys, and "constructor" keys holding "prototype", anywhere in a body, because they can change the prototype of objects in JavaScript code that merges the JSON; rename the key`);
    }
  }
  return value;
}

/** The path of the first `__proto__` key, or `constructor` key holding `prototype`, or null; iterative (any depth). */
function prototypeKey(value: unknown): string | null {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: '' }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    for (const key of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[key];
      const at = Array.isArray(v) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (key === '__proto__') return at;
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) return at;
      stack.push({ v: child, path: at });
    }
  }
  return null;
}

function refuse(path: string, message: string, detail = `${path}: ${message}`): never {
  throw new HttpError(400, detail, [{ path, message }]);
}


/** The path ("query.topic", "events[2].topic") of the first string or key holding a NUL, or null. Depth is bounded by tooDeep. */
function nulAt(value: unknown, path: string, skipPayloads: boolean): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'body' : null;
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulAt(value[i], `${path}[${i}]`, skipPayloads);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return at;
    if (skipPayloads && JSON_PAYLOADS.has(key) && typeof child === 'object') continue;
    const found = nulAt(child, at, skipPayloads);
    if (found !== null) return found;
  }
  return null;
}

/** The path (its first segments) at which `value` nests deeper than `max`, or null; iterative, so any depth is safe. */
function tooDeep(value: unknown, max: number): string | null {
  if (value === null || typeof value !== 'object') return null;
  // Runs on every request body: no per-node allocation beyond the stack entries themselves.
  const stack: { v: object; depth: number; path: string }[] = [{ v: value, depth: 1, path: '' }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (depth > max) return path || 'body';
    // Only the first few segments go into the path: enough to name the field, short enough to read.
    const named = depth <= 3;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const child = v[i];
        if (child !== null && typeof child === 'object') stack.push({ v: child, depth: depth + 1, path: named ? `${path}[${i}]` : path });
      }
    } else {
      for (const key in v) {
        const child = (v as Record<string, unknown>)[key];
        if (child !== null && typeof child === 'object') stack.push({ v: child, depth: depth + 1, path: named ? (path ? `${path}.${key}` : key) : path });
      }
    }
  }
  return null;
}
