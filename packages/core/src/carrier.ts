import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/**
 * What Baton accepts as message headers: any object whose values are strings, Buffers,
 * byte arrays, numbers, arrays of those, or undefined, under keys of any case. Only the
 * object's OWN properties are headers: anything inherited (a prototype that a decoder
 * built from a `__proto__` key, say) is never read.
 */
export type HeaderCarrier = Readonly<Record<string, unknown>> | null | undefined;

const decoder = new TextDecoder();
const hasOwn = Object.prototype.hasOwnProperty;

function valueToString(value: unknown, maxLength: number): string | undefined {
  if (typeof value === 'string')
    return value.length > maxLength ? value.slice(0, maxLength) : value;
  if (value instanceof Uint8Array) {
    // Buffer is a Uint8Array. A huge value is decoded only as far as anyone reads it.
    return decoder.decode(value.length > maxLength ? value.subarray(0, maxLength) : value);
  }
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function pushValues(raw: unknown, values: string[], maxLength: number): void {
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const text = valueToString(item, maxLength);
      if (text !== undefined) values.push(text);
    }
    return;
  }
  const text = valueToString(raw, maxLength);
  if (text !== undefined) values.push(text);
}

/**
 * Every value of header `key` (lower case) in `carrier`, in order: the exact-case key
 * first, then keys that differ only in case (headers are case-insensitive), each array
 * value flattened. A repeated header therefore reads the same whichever way the bus
 * repeats it: as an array (Kafka, Redis via Baton's carrier), or as several keys.
 */
function collectValues(
  carrier: Readonly<Record<string, unknown>>,
  key: string,
  maxLength: number,
): string[] {
  const values: string[] = [];
  if (hasOwn.call(carrier, key)) pushValues(carrier[key], values, maxLength);
  for (const candidate in carrier) {
    // Length first: most keys differ in length, and toLowerCase allocates.
    if (
      candidate.length === key.length &&
      candidate !== key &&
      hasOwn.call(carrier, candidate) &&
      candidate.toLowerCase() === key
    ) {
      pushValues(carrier[candidate], values, maxLength);
    }
  }
  return values;
}

/**
 * Reads one header as a string, or as several strings when it was repeated (an array
 * value, or keys differing only in case). Buffers are decoded as UTF-8; keys match
 * case-insensitively (`key` must be lower case); only own properties are read; values of
 * other types are ignored. `maxLength` caps each value (longer ones are cut there).
 */
export function readHeader(
  carrier: HeaderCarrier,
  key: string,
  maxLength = Number.POSITIVE_INFINITY,
): string | string[] | undefined {
  if (carrier == null || typeof carrier !== 'object') return undefined;
  const values = collectValues(carrier, key, maxLength);
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0] : values;
}

/** Reads one header as a single string: the first value when it was repeated. */
export function readFirstHeader(carrier: HeaderCarrier, key: string): string | undefined {
  const value = readHeader(carrier, key);
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The first value of header `key` that `isValid` accepts: the rule for a repeated
 * `traceparent` or `x-correlation-id` on every bus (a repeated key does not let a later
 * value override an earlier valid one, and garbage first does not hide a valid value).
 */
export function readFirstValidHeader<T extends string>(
  carrier: HeaderCarrier,
  key: string,
  isValid: (value: string) => value is T,
  maxLength?: number,
): T | undefined;
export function readFirstValidHeader(
  carrier: HeaderCarrier,
  key: string,
  isValid: (value: string) => boolean,
  maxLength?: number,
): string | undefined;
export function readFirstValidHeader(
  carrier: HeaderCarrier,
  key: string,
  isValid: (value: string) => boolean,
  maxLength?: number,
): string | undefined {
  const value = readHeader(carrier, key, maxLength);
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return isValid(value) ? value : undefined;
  return value.find(isValid);
}

/** The raw values of Baton's four context headers, as one pass over a carrier found them. */
export interface ContextHeaderValues {
  traceparent: string | string[] | undefined;
  tracestate: string | string[] | undefined;
  baggage: string | string[] | undefined;
  correlationId: string | string[] | undefined;
}

type ContextHeaderName = keyof ContextHeaderValues;

// Header name (lower case) by its length: the four names have four different lengths.
function contextHeaderOf(key: string): [ContextHeaderName, string] | undefined {
  switch (key.length) {
    case 11:
      return ['traceparent', 'traceparent'];
    case 10:
      return ['tracestate', 'tracestate'];
    case 7:
      return ['baggage', 'baggage'];
    case 16:
      return ['correlationId', 'x-correlation-id'];
    default:
      return undefined;
  }
}

function merge(
  current: string | string[] | undefined,
  raw: unknown,
  maxLength: number,
): string | string[] | undefined {
  // The common case: one plain value, no array built.
  if (current === undefined && !Array.isArray(raw)) return valueToString(raw, maxLength);
  const values: string[] =
    current === undefined ? [] : Array.isArray(current) ? current : [current];
  pushValues(raw, values, maxLength);
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0] : values;
}

/**
 * Reads `traceparent`, `tracestate`, `baggage` and `x-correlation-id` in ONE pass over
 * the carrier's own keys, with the same rules as {@link readHeader}: exact-case keys
 * first, then keys that differ only in case, repeated values in order.
 */
export function readContextHeaders(carrier: HeaderCarrier, maxLength: number): ContextHeaderValues {
  const found: ContextHeaderValues = {
    traceparent: undefined,
    tracestate: undefined,
    baggage: undefined,
    correlationId: undefined,
  };
  if (carrier == null || typeof carrier !== 'object') return found;
  let variants: Array<[ContextHeaderName, unknown]> | undefined;
  for (const key in carrier) {
    const header = contextHeaderOf(key);
    if (header === undefined || !hasOwn.call(carrier, key)) continue;
    const [field, name] = header;
    if (key === name) found[field] = merge(found[field], carrier[key], maxLength);
    else if (key.toLowerCase() === name) {
      variants ??= [];
      variants.push([field, carrier[key]]);
    }
  }
  if (variants !== undefined) {
    for (const [field, raw] of variants) found[field] = merge(found[field], raw, maxLength);
  }
  return found;
}

/** Own enumerable keys of a carrier (never inherited ones). */
export function carrierKeys(carrier: HeaderCarrier): string[] {
  return carrier && typeof carrier === 'object' ? Object.keys(carrier) : [];
}

/** The getter for OpenTelemetry propagators over any {@link HeaderCarrier}. */
export const headerGetter: TextMapGetter<HeaderCarrier> = {
  keys: carrierKeys,
  get: (carrier, key) => readHeader(carrier, key.toLowerCase()),
};

/** The setter for OpenTelemetry propagators: writes string values into a plain object. */
export const headerSetter: TextMapSetter<Record<string, unknown>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};
