import { CONTEXT_HEADERS } from '@baton/core';
import type { FieldEncoding } from './types.js';

/**
 * The entry fields Baton writes beside the payload: `traceparent`, `tracestate` (W3C
 * Trace Context), `baggage` (W3C Baggage) and `x-correlation-id`. Consumers in other
 * languages read them as they would read the HTTP headers of the same names.
 */
export const CONTEXT_FIELDS: readonly string[] = CONTEXT_HEADERS;

const contextFields = new Set(CONTEXT_FIELDS);
const contextFieldLengths = new Set(CONTEXT_FIELDS.map((name) => name.length));

/** True for Baton's context fields, in any letter case (hand-written producers vary). */
export function isContextField(name: string): boolean {
  return contextFieldName(name) !== undefined;
}

/** The lower-case context field `name` stands for, or undefined for a payload field. */
function contextFieldName(name: string | Buffer): string | undefined {
  // Length first: most names differ in length, and decoding or lower-casing allocates. The
  // names are ASCII, so a Buffer's byte length equals their length, and latin1 maps bytes
  // one to one (no non-ASCII byte lower-cases to an ASCII letter).
  if (!contextFieldLengths.has(name.length)) return undefined;
  const text = typeof name === 'string' ? name : name.toString('latin1');
  if (contextFields.has(text)) return text;
  const lower = text.toLowerCase();
  return contextFields.has(lower) ? lower : undefined;
}

/**
 * How payload names and values reach the handler: as Buffers, as UTF-8 strings, or as the
 * caller's own loop read them ({@link traceEntryHandler}).
 */
export type ValueMode = FieldEncoding | 'as-given';

/** The context fields of an entry: one string per name, or its values in entry order. */
export type ContextCarrier = Record<string, string | string[]>;

/** An entry's fields split into the user's payload and Baton's context carrier. */
export interface SplitFields<V> {
  /** Payload fields by name; a repeated name keeps its last value. */
  fields: Record<string, V>;
  /** Every payload field in entry order. */
  fieldList: Array<readonly [V, V]>;
  /**
   * Only the context fields, lower-cased names, for core's extraction. A repeated name
   * carries ALL its values in entry order: core decides which one counts (the first valid
   * `traceparent`, joined `tracestate`/`baggage` lists).
   */
  carrier: ContextCarrier;
}

// A field named `__proto__` would set the object's prototype instead of a property.
function setField<V>(target: Record<string, V>, name: string, value: V): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true });
  } else {
    target[name] = value;
  }
}

const utf8 = (value: string | Buffer): string =>
  typeof value === 'string' ? value : value.toString('utf8');

function convert(value: string | Buffer, mode: ValueMode): string | Buffer {
  if (mode === 'utf8') return utf8(value);
  if (mode === 'buffer' && typeof value === 'string') return Buffer.from(value, 'utf8');
  return value;
}

function addContextValue(carrier: ContextCarrier, name: string, value: string): void {
  const previous = carrier[name];
  if (previous === undefined) carrier[name] = value;
  else if (Array.isArray(previous)) previous.push(value);
  else carrier[name] = [previous, value];
}

/**
 * Splits an entry's flat `[name, value, ...]` list (as XREADGROUP returns it, strings or
 * Buffers) into payload and context fields. Context values are decoded as UTF-8; payload
 * names and values are converted as `mode` says. A dangling name is dropped.
 */
export function splitFields<V extends string | Buffer>(
  flat: readonly (string | Buffer)[] | null | undefined,
  mode: ValueMode,
): SplitFields<V> {
  const fields: Record<string, V> = {};
  const fieldList: Array<readonly [V, V]> = [];
  const carrier: ContextCarrier = {};
  if (!Array.isArray(flat)) return { fields, fieldList, carrier };
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!;
    const value = flat[i + 1]!;
    const context = contextFieldName(name);
    if (context !== undefined) {
      addContextValue(carrier, context, utf8(value));
      continue;
    }
    const converted = convert(value, mode) as V;
    const nameText = utf8(name);
    setField(fields, nameText, converted);
    // In utf8 mode the name is decoded once for both.
    fieldList.push([(mode === 'utf8' ? nameText : convert(name, mode)) as V, converted]);
  }
  return { fields, fieldList, carrier };
}

// Ids Redis assigns carry the ms clock; anything below this (Sept 2001) is an explicit id
// that is not a wall-clock time, and would make time-in-queue decades long.
const EARLIEST_PLAUSIBLE_MS = 1e12;

/**
 * The millisecond part of an entry id (`<ms>-<seq>`): when Redis added the entry. Returns
 * undefined for malformed ids and for explicit ids whose ms part is not a plausible time.
 */
export function entryTimestampMs(id: string): number | undefined {
  const dash = id.indexOf('-');
  const ms = Number(dash < 0 ? id : id.slice(0, dash));
  return Number.isSafeInteger(ms) && ms >= EARLIEST_PLAUSIBLE_MS ? ms : undefined;
}
