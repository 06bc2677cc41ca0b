import {
  propagation as apiPropagation,
  type Baggage,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  trace,
} from '@opentelemetry/api';
import {
  carrierKeys,
  type HeaderCarrier,
  headerSetter,
  readContextHeaders,
  readFirstValidHeader,
  readHeader,
} from './carrier.js';
import { BAGGAGE_KEY, SPAN_KEY, withValue } from './context-chain.js';
import { activeContext } from './context-scope.js';
import {
  CORRELATION_HEADER,
  getCorrelationId,
  isValidCorrelationId,
  MAX_CORRELATION_ID_LENGTH,
  resolveCorrelationId,
  setCorrelationId,
} from './correlation.js';
import { BAGGAGE_HEADER, MAX_BAGGAGE_LENGTH } from './w3c/baggage.js';
import { W3CPropagator } from './w3c/propagator.js';
import { TRACE_PARENT_HEADER, TRACE_STATE_HEADER } from './w3c/traceparent.js';

export { BAGGAGE_HEADER, TRACE_PARENT_HEADER, TRACE_STATE_HEADER };

/** Every header Baton owns on a message, lower case. */
export const CONTEXT_HEADERS: readonly string[] = Object.freeze([
  TRACE_PARENT_HEADER,
  TRACE_STATE_HEADER,
  BAGGAGE_HEADER,
  CORRELATION_HEADER,
]);

/** W3C Trace Context + W3C Baggage, Baton's own (see {@link W3CPropagator}). */
const w3c = new W3CPropagator();
export const w3cPropagator: TextMapPropagator = w3c;

// No value Baton reads is useful past the baggage limit: a huge header is read only that far.
const MAX_HEADER_READ = MAX_BAGGAGE_LENGTH + 1;

const getter: TextMapGetter<HeaderCarrier> = {
  keys: carrierKeys,
  get: (carrier, key) => readHeader(carrier, key.toLowerCase(), MAX_HEADER_READ),
};

/** The incoming correlation id: the first valid value of a repeated header. */
function incomingCorrelationId(headers: HeaderCarrier): string | undefined {
  return readFirstValidHeader(
    headers,
    CORRELATION_HEADER,
    isValidCorrelationId,
    MAX_CORRELATION_ID_LENGTH + 1,
  );
}

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
 * Malformed headers never throw: they are ignored. Only the carrier's own properties are
 * read.
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
  if (trace.getSpan(base) !== undefined) clean = withValue(clean, SPAN_KEY, undefined);
  if (apiPropagation.getBaggage(clean) !== undefined)
    clean = withValue(clean, BAGGAGE_KEY, undefined);
  let ctx = clean;
  let correlationId: string | string[] | undefined;
  if (propagator === w3c) {
    // Baton's own propagator: all four headers in one pass over the carrier.
    const values = readContextHeaders(headers, MAX_HEADER_READ);
    ctx = w3c.extractValues(clean, values.traceparent, values.tracestate, values.baggage);
    correlationId = values.correlationId;
  } else {
    try {
      ctx = propagator.extract(clean, headers, getter);
    } catch {
      // A custom propagator that throws on garbage: treat as "no context".
    }
    correlationId = readHeader(headers, CORRELATION_HEADER, MAX_CORRELATION_ID_LENGTH + 1);
  }
  if (options.dropBaggage && apiPropagation.getBaggage(ctx) !== undefined) {
    ctx = withValue(ctx, BAGGAGE_KEY, undefined);
  }
  return setCorrelationId(ctx, resolveCorrelationId(firstValidCorrelationId(correlationId)));
}

function firstValidCorrelationId(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return isValidCorrelationId(value) ? value : undefined;
  return value.find(isValidCorrelationId);
}

/** Options for {@link injectContext}. */
export interface InjectOptions {
  /** Propagator for the trace context and baggage. @defaultValue {@link w3cPropagator} */
  propagator?: TextMapPropagator;
}

/**
 * Returns a COPY of `headers` with `traceparent`, `tracestate`, `baggage` and
 * `x-correlation-id` of `ctx` written in (lower case; any other-case duplicates of those
 * keys are dropped from the copy). The caller's object is never modified. Only own
 * properties are copied.
 */
export function injectContext<H extends Record<string, unknown>>(
  headers: Readonly<H> | null | undefined,
  ctx: Context = activeContext(),
  options: InjectOptions = {},
): H & Record<string, string> {
  const copy: Record<string, unknown> = {};
  if (headers) {
    for (const key of Object.keys(headers)) {
      if (CONTEXT_HEADERS.includes(key.toLowerCase())) continue;
      if (key === '__proto__') {
        // Assigning would set the copy's prototype; keep it as the plain key it was.
        Object.defineProperty(copy, key, {
          value: headers[key],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        copy[key] = headers[key];
      }
    }
  }
  (options.propagator ?? w3cPropagator).inject(ctx, copy, headerSetter);
  const correlationId = getCorrelationId(ctx);
  if (correlationId !== undefined) copy[CORRELATION_HEADER] = correlationId;
  return copy as H & Record<string, string>;
}

/**
 * What an edge keeps of its caller's W3C baggage. The edge faces callers it does not
 * control, so by default their baggage is dropped: `tenant_id=evil` sent from the internet
 * must not be logged by every service downstream.
 * - `'none'`: drop it (the default; untrusted callers).
 * - `'all'`: keep it (a trusted caller, e.g. your own gateway that set it).
 * - a list of keys: keep only those entries.
 */
export type EdgeBaggageTrust = 'none' | 'all' | readonly string[];

/** Options for {@link edgeContext}. */
export interface EdgeOptions {
  /** See {@link EdgeBaggageTrust}. @defaultValue 'none' */
  trustBaggage?: EdgeBaggageTrust;
  /** The context to start from. @defaultValue the active context */
  base?: Context;
  /** Propagator for the trace context and baggage. @defaultValue {@link w3cPropagator} */
  propagator?: TextMapPropagator;
}

function keptBaggage(baggage: Baggage, trust: EdgeBaggageTrust): Baggage | undefined {
  if (trust === 'all') return baggage;
  if (trust === 'none' || !Array.isArray(trust)) return undefined;
  let kept = baggage;
  for (const [key] of baggage.getAllEntries()) {
    if (!trust.includes(key)) kept = kept.removeEntry(key);
  }
  return kept.getAllEntries().length > 0 ? kept : undefined;
}

function applyBaggageTrust(ctx: Context, trust: EdgeBaggageTrust): Context {
  const baggage = apiPropagation.getBaggage(ctx);
  if (baggage === undefined || trust === 'all') return ctx;
  const kept = keptBaggage(baggage, trust);
  return kept === undefined
    ? apiPropagation.deleteBaggage(ctx)
    : apiPropagation.setBaggage(ctx, kept);
}

/**
 * The context for work that starts at the edge of the system (an HTTP request, a cron
 * job). When the base context already has an active span (an HTTP instrumentation started
 * the server span), that span is kept and only the correlation id is added: the incoming
 * valid one, else a new one. Otherwise the incoming trace context is extracted from
 * `headers`. Either way the caller's baggage is kept only as far as
 * {@link EdgeOptions.trustBaggage} allows (an HTTP instrumentation's baggage too).
 *
 * @example
 * http.createServer((req, res) => runWithContext(edgeContext(req.headers), handle, req, res));
 */
export function edgeContext(headers?: HeaderCarrier, options: EdgeOptions = {}): Context {
  const base = options.base ?? activeContext();
  const trust = options.trustBaggage ?? 'none';
  let ctx: Context;
  if (headers && trace.getSpanContext(base) === undefined) {
    ctx = extractContext(
      headers,
      base,
      options.propagator ? { propagator: options.propagator } : {},
    );
  } else if (isValidCorrelationId(getCorrelationId(base))) {
    ctx = base;
  } else {
    ctx = setCorrelationId(base, resolveCorrelationId(incomingCorrelationId(headers)));
  }
  return applyBaggageTrust(ctx, trust);
}
