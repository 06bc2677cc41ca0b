import { type Context, createContextKey } from '@opentelemetry/api';

/**
 * Who records the messaging spans of a client method that another instrumentation also
 * wraps (OpenTelemetry's contrib amqplib and kafkajs instrumentations, as
 * `getNodeAutoInstrumentations()` and Sentry enable them). Baton finds that wrapper on
 * every call, by the marks shimmer leaves on the function; a method without one is always
 * traced by Baton alone.
 * - `'baton'`: Baton's spans and metrics, once. Baton calls the client so that the other
 *   instrumentation records nothing for that call (the unwrapped function, or the call
 *   under OpenTelemetry's suppress-tracing context).
 * - `'contrib'`: the other instrumentation's spans (and, where it records them, its
 *   message counters and durations); Baton starts no send or process span of its own for
 *   that call, and still adds the correlation id, baggage, time in queue, lag and each
 *   batch message's context.
 */
export type Coexistence = 'baton' | 'contrib';

/**
 * What another instrumentation records for one operation, when Baton leaves it to that
 * instrumentation (`coexistence: 'contrib'`): `'span'` (contrib's amqplib: spans, no
 * metrics) or `'span-and-metrics'` (contrib's kafkajs: spans, message counters and
 * durations).
 */
export type RecordedByContrib = 'span' | 'span-and-metrics';

/**
 * The context key under which `@opentelemetry/core`'s `suppressTracing()` marks a context.
 * The API's `createContextKey` is `Symbol.for(description)`, so a key made from the same
 * description is the same key: an SDK tracer then starts only non-recording spans, and the
 * W3C propagators inject nothing. Baton does not depend on `@opentelemetry/core`.
 */
export const SUPPRESS_TRACING_KEY = createContextKey(
  'OpenTelemetry SDK Context Key SUPPRESS_TRACING',
);

/** `ctx` with tracing suppressed, as `@opentelemetry/core`'s `suppressTracing` makes it. */
export function suppressTracing(ctx: Context): Context {
  return ctx.setValue(SUPPRESS_TRACING_KEY, true);
}

/** Whether tracing is suppressed in `ctx` (`@opentelemetry/core`'s `isTracingSuppressed`). */
export function isTracingSuppressed(ctx: Context): boolean {
  return ctx.getValue(SUPPRESS_TRACING_KEY) === true;
}

interface Shimmed {
  __wrapped?: unknown;
  __original?: unknown;
}

// Wrappers may stack (two instrumentations of one method); a bound on the walk keeps a
// malformed chain from looping.
const MAX_WRAPPERS = 8;

/**
 * The function under shimmer-style wrappers (OpenTelemetry's `InstrumentationBase._wrap`,
 * Sentry's copies of the contrib instrumentations), or `undefined` when `fn` is not such a
 * wrapper. Two property reads for an unwrapped function: cheap enough to call on every
 * publish, since an instrumentation may be enabled or disabled after the client exists.
 */
export function unwrappedOriginal<F>(fn: F): F | undefined {
  let current = fn as unknown;
  if (typeof current !== 'function' || (current as Shimmed).__wrapped !== true) return undefined;
  for (let depth = 0; depth < MAX_WRAPPERS; depth++) {
    const original = (current as Shimmed).__original;
    if (typeof original !== 'function') return undefined;
    current = original;
    if ((current as Shimmed).__wrapped !== true) return current as F;
  }
  return undefined;
}

/** Whether `fn` is a shimmer-style wrapper with an original under it. */
export function isShimmed(fn: unknown): boolean {
  return unwrappedOriginal(fn) !== undefined;
}
