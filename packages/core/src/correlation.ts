import { type Context, createContextKey } from '@opentelemetry/api';
import { withValue } from './context-chain.js';
import { activeContext, runWithContext } from './context-scope.js';
import { randomUuid } from './uuid.js';

/** The header that carries the correlation id on every hop. */
export const CORRELATION_HEADER = 'x-correlation-id';

/** Longest correlation id Baton accepts; longer ones are replaced. */
export const MAX_CORRELATION_ID_LENGTH = 128;

const CORRELATION_KEY = createContextKey('baton.correlation_id');
// Safe visible ASCII: letters, digits and a few separators. No spaces, quotes, control
// characters or CR/LF, so an id can go into a log line or a header unescaped.
const SAFE = new Uint8Array(128);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@/+=-') {
  SAFE[char.charCodeAt(0)] = 1;
}

/** True when `value` may be carried and logged as a correlation id. */
export function isValidCorrelationId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CORRELATION_ID_LENGTH) {
    return false;
  }
  // A character loop: checked on every message, and about twice as fast as the regex. The
  // bounds check keeps the table lookup in range (an out-of-range read is slow in V8).
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 127 || SAFE[code] === 0) return false;
  }
  return true;
}

/** A new random correlation id (a UUID v4). */
export function createCorrelationId(): string {
  return randomUuid();
}

/** Keeps a valid incoming id; anything else (absent, too long, unsafe) becomes a new id. */
export function resolveCorrelationId(incoming: unknown): string {
  return isValidCorrelationId(incoming) ? incoming : createCorrelationId();
}

/** Returns `ctx` with `correlationId` stored in it. */
export function setCorrelationId(ctx: Context, correlationId: string): Context {
  return withValue(ctx, CORRELATION_KEY, correlationId);
}

/**
 * The correlation id of the current request or message, or `undefined` outside one.
 * Works anywhere: in a message handler, in an HTTP handler run through
 * `runWithContext(edgeContext(req.headers), ...)`, in code called from either.
 */
export function getCorrelationId(ctx: Context = activeContext()): string | undefined {
  return ctx.getValue(CORRELATION_KEY) as string | undefined;
}

/** Runs `fn` with `correlationId` (validated; replaced if unsafe) as the current id. */
export function withCorrelationId<R>(correlationId: string, fn: () => R): R {
  const ctx = setCorrelationId(activeContext(), resolveCorrelationId(correlationId));
  return runWithContext(ctx, fn);
}
