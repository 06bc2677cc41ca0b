import type { TextMapGetter } from '@opentelemetry/api';
import {
  propagation as apiPropagation,
  type Context,
  type TextMapPropagator,
  trace,
} from '@opentelemetry/api';
import {
  CompositePropagator,
  parseTraceParent,
  TRACE_PARENT_HEADER,
  TRACE_STATE_HEADER,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { type HeaderCarrier, headerSetter, readFirstHeader, readHeader } from './carrier.js';
import { activeContext } from './context-scope.js';
import {
  CORRELATION_HEADER,
  getCorrelationId,
  isValidCorrelationId,
  resolveCorrelationId,
  setCorrelationId,
} from './correlation.js';

/** The W3C headers Baton writes, besides {@link CORRELATION_HEADER}. */
export const BAGGAGE_HEADER = 'baggage';
export { TRACE_PARENT_HEADER, TRACE_STATE_HEADER };

/** Every header Baton owns on a message, lower case. */
export const CONTEXT_HEADERS: readonly string[] = Object.freeze([
  TRACE_PARENT_HEADER,
  TRACE_STATE_HEADER,
  BAGGAGE_HEADER,
  CORRELATION_HEADER,
]);

/** W3C Trace Context + W3C Baggage, from @opentelemetry/core. */
export const w3cPropagator: TextMapPropagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

// A repeated traceparent (Kafka allows repeated header keys) uses the first valid value;
// tracestate and baggage arrays are joined by the W3C propagators themselves.
const getter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => (carrier && typeof carrier === 'object' ? Object.keys(carrier) : []),
  get(carrier, key) {
    const value = readHeader(carrier, key);
    if (key !== TRACE_PARENT_HEADER || !Array.isArray(value)) return value;
    return value.find((candidate) => parseTraceParent(candidate) !== null) ?? value[0];
  },
};

/** Options for {@link extractContext}. */
export interface ExtractOptions {
  /** Propagator for the trace context and baggage. @defaultValue {@link w3cPropagator} */
  propagator?: TextMapPropagator;
  /** Ignore incoming baggage (trust boundary). @defaultValue false */
  dropBaggage?: boolean;
}

/**
 * Extracts the creation context of a message (or the context of an incoming request) from
 * its headers, on top of `base`: trace context, baggage and a correlation id. A valid
 * incoming correlation id is kept; a missing or unsafe one is replaced by a new id.
 * Malformed headers never throw: they are ignored.
 */
export function extractContext(
  headers: HeaderCarrier,
  base: Context = activeContext(),
  options: ExtractOptions = {},
): Context {
  const propagator = options.propagator ?? w3cPropagator;
  // The base's own span and baggage must not leak into the message's context.
  // Each delete copies the context; a consumer loop's base usually has neither.
  let clean = base;
  if (trace.getSpan(base) !== undefined) clean = trace.deleteSpan(clean);
  if (apiPropagation.getBaggage(clean) !== undefined) clean = apiPropagation.deleteBaggage(clean);
  let ctx = clean;
  try {
    ctx = propagator.extract(clean, headers, getter);
  } catch {
    // A custom propagator that throws on garbage: treat as "no context".
  }
  if (options.dropBaggage) ctx = apiPropagation.deleteBaggage(ctx);
  return setCorrelationId(ctx, resolveCorrelationId(readFirstHeader(headers, CORRELATION_HEADER)));
}

/** Options for {@link injectContext}. */
export interface InjectOptions {
  /** Propagator for the trace context and baggage. @defaultValue {@link w3cPropagator} */
  propagator?: TextMapPropagator;
}

/**
 * Returns a COPY of `headers` with `traceparent`, `tracestate`, `baggage` and
 * `x-correlation-id` of `ctx` written in (lower case; any other-case duplicates of those
 * keys are dropped from the copy). The caller's object is never modified.
 */
export function injectContext<H extends Record<string, unknown>>(
  headers: Readonly<H> | null | undefined,
  ctx: Context = activeContext(),
  options: InjectOptions = {},
): H & Record<string, string> {
  const copy: Record<string, unknown> = {};
  if (headers) {
    for (const key of Object.keys(headers)) {
      if (!CONTEXT_HEADERS.includes(key.toLowerCase())) copy[key] = headers[key];
    }
  }
  (options.propagator ?? w3cPropagator).inject(ctx, copy, headerSetter);
  const correlationId = getCorrelationId(ctx);
  if (correlationId !== undefined) copy[CORRELATION_HEADER] = correlationId;
  return copy as H & Record<string, string>;
}

/**
 * The context for work that starts at the edge of the system (an HTTP request, a cron
 * job). When `base` already has an active span (an HTTP instrumentation started the server
 * span), that span and its baggage are kept and only the correlation id is added: the
 * incoming valid one, else a new one. Otherwise the incoming trace context and baggage are
 * extracted from `headers`.
 *
 * @example
 * http.createServer((req, res) => runWithContext(edgeContext(req.headers), handle, req, res));
 */
export function edgeContext(headers?: HeaderCarrier, base: Context = activeContext()): Context {
  if (headers && trace.getSpanContext(base) === undefined) return extractContext(headers, base);
  if (isValidCorrelationId(getCorrelationId(base))) return base;
  return setCorrelationId(base, resolveCorrelationId(readFirstHeader(headers, CORRELATION_HEADER)));
}
