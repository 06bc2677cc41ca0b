import { activeContext, getCorrelationId } from '@baton/core';
import { diag, propagation, trace } from '@opentelemetry/api';
import pino from 'pino';
import type { BatonMixinOptions, CorrelationFields, PinoMixin } from './types.js';

const DEFAULT_MAX_BAGGAGE_VALUE_LENGTH = 256;
// Baton's own fields, and the fields pino writes itself before or after the mixin's: a
// baggage entry under one of these names would write a duplicate JSON key, and the last
// one wins when the line is parsed (a `level` from baggage could spoof the level).
const RESERVED = new Set([
  'trace_id',
  'span_id',
  'trace_flags',
  'correlation_id',
  'level',
  'time',
  'msg',
  'err',
  'pid',
  'hostname',
  'name',
  'v',
]);

// A logger's own keys beyond the defaults: its message and error keys and its bindings
// (`child({ service })`). Read once per logger instance (bindings() parses JSON).
const loggerKeys = new WeakMap<object, ReadonlySet<string>>();

function ownKeysOf(logger: unknown): ReadonlySet<string> | undefined {
  if (logger === null || typeof logger !== 'object') return undefined;
  let keys = loggerKeys.get(logger);
  if (keys === undefined) {
    const set = new Set<string>();
    const instance = logger as Record<symbol, unknown> & { bindings?: () => object };
    for (const symbol of [pino.symbols.messageKeySym, pino.symbols.errorKeySym]) {
      const key = instance[symbol];
      if (typeof key === 'string') set.add(key);
    }
    if (typeof instance.bindings === 'function') {
      for (const key of Object.keys(instance.bindings())) set.add(key);
    }
    keys = set;
    loggerKeys.set(logger, keys);
  }
  return keys;
}
const warned = new Set<string>();

function warnOnce(message: string, error: unknown): void {
  if (warned.has(message)) return;
  warned.add(message);
  diag.warn(`@baton/pino: ${message}`, error);
}

/** The correlation fields of the current context: trace, span, flags, correlation id, baggage. */
export function correlationFields(
  options: BatonMixinOptions = {},
  logger?: unknown,
): CorrelationFields {
  const ctx = activeContext();
  const fields: CorrelationFields = {};
  const spanContext = trace.getSpanContext(ctx);
  if (spanContext && trace.isSpanContextValid(spanContext)) {
    fields.trace_id = spanContext.traceId;
    fields.span_id = spanContext.spanId;
    fields.trace_flags = `0${spanContext.traceFlags.toString(16)}`.slice(-2);
  }
  const correlationId = getCorrelationId(ctx);
  if (correlationId !== undefined) fields.correlation_id = correlationId;
  const keys = options.baggageKeys;
  if (keys && keys.length > 0) {
    const baggage = propagation.getBaggage(ctx);
    if (baggage) {
      const max = options.maxBaggageValueLength ?? DEFAULT_MAX_BAGGAGE_VALUE_LENGTH;
      const own = ownKeysOf(logger);
      for (const key of keys) {
        if (RESERVED.has(key) || own?.has(key)) continue;
        const value = baggage.getEntry(key)?.value;
        if (value !== undefined) fields[key] = value.length > max ? value.slice(0, max) : value;
      }
    }
  }
  return fields;
}

/**
 * A pino `mixin` that adds `trace_id`, `span_id`, `trace_flags`, `correlation_id` and the
 * allow-listed baggage keys of the current context to every line. It composes with a mixin
 * you already have (yours wins on a field clash) and never throws: on a failure it logs
 * what your mixin returns, with one `diag` warning.
 *
 * @example
 * const logger = pino({ mixin: batonMixin({ baggageKeys: ['tenant_id'] }) });
 */
export function batonMixin(options: BatonMixinOptions = {}): PinoMixin {
  const userMixin = typeof options.mixin === 'function' ? options.mixin : undefined;
  const max = options.maxBaggageValueLength;
  const resolved: BatonMixinOptions = { ...options };
  const reserved = options.baggageKeys?.filter((key) => RESERVED.has(key)) ?? [];
  if (reserved.length > 0) {
    diag.warn(
      `@baton/pino: ignoring baggageKeys that name a field the logger writes itself: ${reserved.join(', ')}`,
    );
    resolved.baggageKeys = options.baggageKeys?.filter((key) => !RESERVED.has(key));
  }
  if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
    diag.warn(
      `@baton/pino: ignoring invalid maxBaggageValueLength=${String(max)}; using ${DEFAULT_MAX_BAGGAGE_VALUE_LENGTH}`,
    );
    resolved.maxBaggageValueLength = DEFAULT_MAX_BAGGAGE_VALUE_LENGTH;
  }
  return (mergeObject, level, logger) => {
    let fields: object = {};
    try {
      fields = correlationFields(resolved, logger);
    } catch (error) {
      warnOnce('reading the current context failed; logging without it', error);
    }
    if (!userMixin) return fields;
    try {
      return { ...fields, ...userMixin(mergeObject, level, logger) };
    } catch (error) {
      // A logger must not throw into the code that logs: keep Baton's fields.
      warnOnce('the composed user mixin threw; logging without its fields', error);
      return fields;
    }
  };
}
