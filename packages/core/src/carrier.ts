import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/**
 * What Baton accepts as message headers: any object whose values are strings, Buffers,
 * byte arrays, numbers, arrays of those, or undefined, under keys of any case.
 */
export type HeaderCarrier = Readonly<Record<string, unknown>> | null | undefined;

const decoder = new TextDecoder();

function valueToString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return decoder.decode(value); // Buffer is a Uint8Array
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function findKey(carrier: Readonly<Record<string, unknown>>, key: string): string | undefined {
  if (carrier[key] != null) return key;
  // Headers may arrive with any case (HTTP-style `Traceparent`, hand-written producers).
  for (const candidate of Object.keys(carrier)) {
    // Length first: most keys differ in length, and toLowerCase allocates.
    if (
      candidate.length === key.length &&
      candidate !== key &&
      carrier[candidate] != null &&
      candidate.toLowerCase() === key
    ) {
      return candidate;
    }
  }
  return undefined;
}

/**
 * Reads one header as a string, or as several strings when it was repeated (an array).
 * Buffers are decoded as UTF-8; keys match case-insensitively; anything else is ignored.
 */
export function readHeader(carrier: HeaderCarrier, key: string): string | string[] | undefined {
  if (carrier == null || typeof carrier !== 'object') return undefined;
  const found = findKey(carrier, key);
  if (found === undefined) return undefined;
  const raw = carrier[found];
  if (Array.isArray(raw)) {
    const values: string[] = [];
    for (const item of raw) {
      const text = valueToString(item);
      if (text !== undefined) values.push(text);
    }
    return values.length > 0 ? values : undefined;
  }
  return valueToString(raw);
}

/** Reads one header as a single string: the first value when it was repeated. */
export function readFirstHeader(carrier: HeaderCarrier, key: string): string | undefined {
  const value = readHeader(carrier, key);
  return Array.isArray(value) ? value[0] : value;
}

/** The getter for OpenTelemetry propagators over any {@link HeaderCarrier}. */
export const headerGetter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => (carrier && typeof carrier === 'object' ? Object.keys(carrier) : []),
  get: (carrier, key) => readHeader(carrier, key),
};

/** The setter for OpenTelemetry propagators: writes string values into a plain object. */
export const headerSetter: TextMapSetter<Record<string, unknown>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};
