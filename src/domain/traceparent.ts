import { randomBytes } from 'node:crypto';

// W3C Trace Context's traceparent header (https://www.w3.org/TR/trace-context/):
// "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>". A publish may carry one; Herald
// keeps it with the event and sends each attempt as a child span of it. A malformed value is
// ignored (null), never refused: tracing must not break publishing.

export interface TraceParent {
  traceId: string;
  parentId: string;
  flags: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

/**
 * The parts of a traceparent header, or null when it is not one. Version 00 must have exactly
 * four fields; a later version may append more (the spec's forward compatibility), which are
 * dropped; version ff is invalid. Upper-case hex is invalid, as the spec says.
 */
export function parseTraceparent(value: unknown): TraceParent | null {
  if (typeof value !== 'string' || value.length > 512) return null;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return null;
  const [, version, traceId, parentId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff') return null;
  if (version === '00' && rest !== undefined) return null;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentId)) return null;
  return { traceId, parentId, flags };
}

/** The header of a traceparent's parts (always version 00, the one Herald speaks). */
export function formatTraceparent(t: TraceParent): string {
  return `00-${t.traceId}-${t.parentId}-${t.flags}`;
}

/** A normalised traceparent to store with an event, or null for a missing or malformed one. */
export function normaliseTraceparent(value: unknown): string | null {
  const t = parseTraceparent(value);
  return t ? formatTraceparent(t) : null;
}

/** A child of `parent` (a stored traceparent): the same trace id and flags, a new random span id. */
export function childTraceparent(parent: string): string | null {
  const t = parseTraceparent(parent);
  if (!t) return null;
  let spanId = randomBytes(8).toString('hex');
  while (ALL_ZERO.test(spanId)) spanId = randomBytes(8).toString('hex');
  return formatTraceparent({ ...t, parentId: spanId });
}
