import { isContextField } from './carrier.js';
import { text } from './replies.js';

/**
 * One `XADD` call as the application made it, parsed: `key [NOMKSTREAM] [KEEPREF | DELREF |
 * ACKED] [IDMPAUTO pid | IDMP pid iid] [MAXLEN | MINID [= | ~] threshold [LIMIT count]]
 * id field value [field value ...]`, names and values as strings, numbers or Buffers.
 * @see https://redis.io/docs/latest/commands/xadd/
 */
export interface XaddCall {
  /** The stream (the key), decoded. */
  readonly stream: string;
  /** The entry id when it is explicit (no `*`): known before Redis answers. */
  readonly explicitId: string | undefined;
  /** Every argument from the key up to the id, as given. */
  readonly head: readonly unknown[];
  /** The field-value pairs as given, without those named like Baton's context fields. */
  readonly payload: readonly unknown[];
  /** The arguments as the application gave them (callback excluded, arrays flattened). */
  readonly args: readonly unknown[];
  /** ioredis's node-style callback, when the call ends with one. */
  readonly callback: ((...reply: unknown[]) => unknown) | undefined;
}

// Options before the id, with how many arguments each takes after its keyword.
const FLAGS: Readonly<Record<string, number>> = {
  NOMKSTREAM: 0,
  KEEPREF: 0,
  DELREF: 0,
  ACKED: 0,
  IDMPAUTO: 1,
  IDMP: 2,
};
// `*`, `<ms>`, `<ms>-<seq>` or `<ms>-*`.
const ENTRY_ID = /^(?:\*|\d+(?:-(?:\d+|\*))?)$/;

const isLetter = (code: number | undefined): boolean =>
  code !== undefined && ((code >= 65 && code <= 90) || (code >= 97 && code <= 122));

const keyword = (value: unknown): string | undefined => {
  if (typeof value === 'string') {
    // Keywords are short ASCII words: an id (`*`, digits) or a long value is none, and is
    // neither decoded nor upper-cased.
    return value.length <= 10 && isLetter(value.charCodeAt(0)) ? value.toUpperCase() : undefined;
  }
  if (!Buffer.isBuffer(value)) return undefined;
  return value.length <= 10 && isLetter(value[0]) ? text(value)?.toUpperCase() : undefined;
};

// ioredis flattens nested arrays one level; most calls have none, and need no copy.
function flatArgs(given: readonly unknown[], end: number): unknown[] {
  for (let i = 0; i < end; i++) {
    if (Array.isArray(given[i])) return given.slice(0, end).flat();
  }
  return end === given.length ? (given as unknown[]) : given.slice(0, end);
}

/** Skips `MAXLEN | MINID [= | ~] threshold [LIMIT count]` at `i`; returns the next index. */
function skipTrim(args: readonly unknown[], i: number): number {
  let next = i + 1;
  const operator = text(args[next]);
  if (operator === '=' || operator === '~') next += 1;
  next += 1; // the threshold
  return keyword(args[next]) === 'LIMIT' ? next + 2 : next;
}

/**
 * Parses the arguments of `xadd(...)` (ioredis flattens nested arrays one level, and so
 * does this). Returns undefined for a call it cannot read with certainty (no fields, an
 * option it does not know, an odd number of field arguments): such a call is sent as is.
 */
export function parseXadd(given: readonly unknown[]): XaddCall | undefined {
  const last = given.at(-1);
  const callback =
    typeof last === 'function' ? (last as (...reply: unknown[]) => unknown) : undefined;
  const args = flatArgs(given, callback ? given.length - 1 : given.length);
  const stream = text(args[0]);
  if (stream === undefined) return undefined;
  let i = 1;
  for (;;) {
    const word = keyword(args[i]);
    const flag = word === undefined ? undefined : FLAGS[word];
    if (flag !== undefined) i += 1 + flag;
    else if (word === 'MAXLEN' || word === 'MINID') i = skipTrim(args, i);
    else break;
  }
  const id = text(args[i]);
  const fieldCount = args.length - i - 1;
  if (
    id === undefined ||
    (id !== '*' && !ENTRY_ID.test(id)) ||
    fieldCount < 2 ||
    fieldCount % 2 !== 0
  ) {
    return undefined;
  }
  const payload: unknown[] = [];
  for (let f = i + 1; f + 1 < args.length; f += 2) {
    const name = args[f];
    const decoded =
      typeof name === 'string' ? name : Buffer.isBuffer(name) ? name.toString('latin1') : undefined;
    // A field named like a context field is replaced by Baton's, as on every bus.
    if (decoded !== undefined && isContextField(decoded)) continue;
    payload.push(name, args[f + 1]);
  }
  return {
    stream,
    explicitId: id.includes('*') ? undefined : id,
    head: args.slice(0, i + 1),
    payload,
    args,
    callback,
  };
}
