import {
  type Context,
  createTraceState,
  isSpanContextValid,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { BAGGAGE_KEY, withSpan, withValue } from '../context-chain.js';
import { BAGGAGE_HEADER, MAX_BAGGAGE_LENGTH, parseBaggage, serializeBaggage } from './baggage.js';
import {
  formatTraceParent,
  parseTraceParent,
  TRACE_PARENT_HEADER,
  TRACE_STATE_HEADER,
} from './traceparent.js';

// tracestate beyond this is discarded whole by the API's parser; reading more is waste.
const MAX_TRACE_STATE_READ = 1024;

function joined(value: string | string[] | undefined, separator: string): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(separator) : value;
}

function firstValidTraceParent(value: string | string[] | undefined) {
  if (value === undefined) return null;
  if (!Array.isArray(value)) return parseTraceParent(value);
  for (const candidate of value) {
    const parsed = parseTraceParent(candidate);
    if (parsed !== null) return parsed;
  }
  return null;
}

/**
 * W3C Trace Context and W3C Baggage in one propagator, with the rules Baton applies on
 * every bus: the first valid `traceparent` of a repeated header wins; repeated
 * `tracestate` and `baggage` values are joined as one list; what is injected is always a
 * valid version-00 `traceparent` (unknown flag bits cleared), whatever valid header came
 * in; baggage stays within the W3C limits. Malformed input is ignored, never thrown on.
 */
export class W3CPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (spanContext !== undefined && isSpanContextValid(spanContext)) {
      setter.set(carrier, TRACE_PARENT_HEADER, formatTraceParent(spanContext));
      const state = spanContext.traceState?.serialize();
      if (state) setter.set(carrier, TRACE_STATE_HEADER, state);
    }
    const baggage = propagation.getBaggage(context);
    if (baggage !== undefined) {
      const header = serializeBaggage(baggage);
      if (header !== undefined) setter.set(carrier, BAGGAGE_HEADER, header);
    }
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.extractValues(
      context,
      getter.get(carrier, TRACE_PARENT_HEADER),
      getter.get(carrier, TRACE_STATE_HEADER),
      getter.get(carrier, BAGGAGE_HEADER),
    );
  }

  /** {@link extract} from header values already read (Baton's one-pass carrier read). */
  extractValues(
    context: Context,
    traceparent: string | string[] | undefined,
    tracestate: string | string[] | undefined,
    baggage: string | string[] | undefined,
  ): Context {
    let ctx = context;
    const spanContext = firstValidTraceParent(traceparent);
    if (spanContext !== null) {
      // tracestate means nothing without a valid traceparent (W3C Trace Context 3.3).
      const state = joined(tracestate, ',');
      if (state !== undefined && state.length <= MAX_TRACE_STATE_READ) {
        spanContext.traceState = createTraceState(state);
      }
      ctx = withSpan(ctx, trace.wrapSpanContext(spanContext));
    }
    const header = joined(baggage, ',');
    if (header !== undefined && header.length > 0) {
      const entries = parseBaggage(
        header.length > MAX_BAGGAGE_LENGTH + 1 ? header.slice(0, MAX_BAGGAGE_LENGTH + 1) : header,
      );
      if (entries !== undefined) {
        ctx = withValue(ctx, BAGGAGE_KEY, propagation.createBaggage(entries));
      }
    }
    return ctx;
  }

  fields(): string[] {
    return [TRACE_PARENT_HEADER, TRACE_STATE_HEADER, BAGGAGE_HEADER];
  }
}
