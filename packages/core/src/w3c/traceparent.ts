import { type SpanContext, TraceFlags } from '@opentelemetry/api';

/** The W3C Trace Context header that carries the trace id, parent id and flags. */
export const TRACE_PARENT_HEADER = 'traceparent';
/** The W3C Trace Context header that carries vendor state. */
export const TRACE_STATE_HEADER = 'tracestate';

// Length of a version-00 traceparent: `vv-<32 hex>-<16 hex>-ff`.
const VERSION_00_LENGTH = 55;
// A later version may append fields, but nothing this long is a traceparent.
const MAX_TRACE_PARENT_LENGTH = 512;
/**
 * The trace-flags bits Baton understands and forwards: `sampled` (0x01, Level 1) and
 * `random` (0x02, Level 2). Every other bit is unknown, and W3C Trace Context says a
 * vendor MUST set unknown flags to zero when it propagates them.
 * @see https://www.w3.org/TR/trace-context-2/#trace-flags
 */
export const KNOWN_TRACE_FLAGS = 0x03;

const INVALID_TRACE_ID = '00000000000000000000000000000000';
const INVALID_SPAN_ID = '0000000000000000';

function isLowerHex(value: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = value.charCodeAt(i);
    // 0-9 or a-f; upper case is invalid in traceparent.
    if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 102))) return false;
  }
  return true;
}

/**
 * Parses a `traceparent` value per W3C Trace Context, returning a remote span context or
 * `null` when the value is not valid. Version `00` must be exactly 55 characters; a later
 * version (not `ff`) is parsed by its version-00 prefix when what follows is `-` or the end,
 * as the spec's versioning rules ask. Unknown flag bits are dropped.
 * @see https://www.w3.org/TR/trace-context/#versioning-of-traceparent
 */
export function parseTraceParent(value: unknown): SpanContext | null {
  if (typeof value !== 'string') return null;
  let header = value;
  if (header.length > VERSION_00_LENGTH) {
    // Optional whitespace around a header value is tolerated (HTTP), nothing else.
    header = header.trim();
  }
  if (header.length < VERSION_00_LENGTH || header.length > MAX_TRACE_PARENT_LENGTH) return null;
  if (!isLowerHex(header, 0, 2) || header.startsWith('ff')) return null;
  const version00 = header.charCodeAt(0) === 48 && header.charCodeAt(1) === 48;
  if (
    version00
      ? header.length !== VERSION_00_LENGTH
      : header.length > VERSION_00_LENGTH && header[VERSION_00_LENGTH] !== '-'
  ) {
    return null;
  }
  if (header[2] !== '-' || header[35] !== '-' || header[52] !== '-') return null;
  if (!isLowerHex(header, 3, 35) || !isLowerHex(header, 36, 52) || !isLowerHex(header, 53, 55)) {
    return null;
  }
  const traceId = header.slice(3, 35);
  const spanId = header.slice(36, 52);
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return null;
  return {
    traceId,
    spanId,
    traceFlags: Number.parseInt(header.slice(53, 55), 16) & KNOWN_TRACE_FLAGS,
    isRemote: true,
  };
}

/**
 * Formats a span context as a version-00 `traceparent`, whatever flags it holds: only the
 * known bits are written, as two lower-case hex digits.
 */
export function formatTraceParent(spanContext: SpanContext): string {
  const flags = (spanContext.traceFlags ?? TraceFlags.NONE) & KNOWN_TRACE_FLAGS;
  return `00-${spanContext.traceId}-${spanContext.spanId}-0${flags.toString(16)}`;
}
