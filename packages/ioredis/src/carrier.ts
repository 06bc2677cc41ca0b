import { CONTEXT_HEADERS } from '@baton/core';
import type { AddOptions, FieldValue } from './types.js';

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
  if (contextFields.has(name)) return true;
  return contextFieldLengths.has(name.length) && contextFields.has(name.toLowerCase());
}

/** An entry's fields split into the user's payload and Baton's context carrier. */
export interface SplitFields {
  fields: Record<string, string>;
  /** Only the context fields, for core's extraction (small, so lookups stay cheap). */
  carrier: Record<string, string>;
}

// A field named `__proto__` would set the object's prototype instead of a property.
function setField(target: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true });
  } else {
    target[name] = value;
  }
}

/**
 * Splits an entry's flat `[name, value, ...]` list (as XREADGROUP returns it) into payload
 * and context fields. A repeated name keeps its last value; a dangling name is dropped.
 */
export function splitFields(flat: readonly string[] | null | undefined): SplitFields {
  const fields: Record<string, string> = {};
  const carrier: Record<string, string> = {};
  if (!Array.isArray(flat)) return { fields, carrier };
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = String(flat[i]);
    const value = flat[i + 1] as string;
    if (isContextField(name)) carrier[name.toLowerCase()] = value;
    else setField(fields, name, value);
  }
  return { fields, carrier };
}

/** The flat list as a record, every field kept (the last value of a repeated name). */
export function fieldsToRecord(flat: readonly string[] | null | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (!Array.isArray(flat)) return record;
  for (let i = 0; i + 1 < flat.length; i += 2) setField(record, String(flat[i]), flat[i + 1]!);
  return record;
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

/** An explicit id whose whole value is known before XADD (no `*`). */
export function explicitEntryId(options: AddOptions | undefined): string | undefined {
  const id = options?.id;
  return id !== undefined && !id.includes('*') ? id : undefined;
}

/**
 * The arguments of `XADD` after the key: `[NOMKSTREAM] [MAXLEN|MINID =|~ threshold
 * [LIMIT n]] id name value ...`. Fields whose value is undefined or null are skipped.
 */
export function xaddArguments(
  fields: Readonly<Record<string, unknown>>,
  options: AddOptions | undefined,
): FieldValue[] {
  const args: FieldValue[] = [];
  if (options) {
    if (options.noMkStream) args.push('NOMKSTREAM');
    const trim: Array<[string, FieldValue | undefined]> = [
      ['MAXLEN', options.maxLen],
      ['MINID', options.minId],
    ];
    for (const [strategy, threshold] of trim) {
      if (threshold === undefined) continue;
      args.push(strategy, options.approximate ? '~' : '=', threshold);
      if (options.limit !== undefined) args.push('LIMIT', options.limit);
    }
  }
  args.push(options?.id ?? '*');
  for (const name of Object.keys(fields)) {
    const value = fields[name];
    if (value === undefined || value === null) continue;
    args.push(name, value as FieldValue);
  }
  return args;
}
