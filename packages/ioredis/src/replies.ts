// Parsers for the replies of the stream commands the runner sends, in every shape ioredis
// returns them: RESP2; RESP3 with ioredis 6's default 'legacy' mapping (a map flattened to
// `[key, value, ...]`, which is what `call`/`callBuffer` return for XREADGROUP, while
// `xreadgroup`/`xreadgroupBuffer` rewrap it as RESP2 pairs); and RESP3 with
// `replyMapping: 'resp3'` (maps as plain objects). Strings may be Buffers (the `...Buffer`
// commands). Anything of an unexpected shape is skipped, never thrown on.

/**
 * The stream commands the runner sends with Buffer replies. ioredis 5 has them at runtime
 * (every command has a `...Buffer` twin) without declaring them; ioredis 6 declares them.
 * Named commands, not `callBuffer`: ioredis 6 applies its per-command reply shaping and
 * blocking-command handling by name.
 */
export interface BufferStreamCommands {
  xreadgroupBuffer(...args: Array<string | number>): Promise<unknown>;
  xautoclaimBuffer(...args: Array<string | number>): Promise<unknown>;
}

/** The client, typed with its Buffer stream commands. */
export const withBufferCommands = (redis: object): BufferStreamCommands =>
  redis as BufferStreamCommands;

/** An entry as the runner keeps it: its id decoded, its fields exactly as Redis sent them. */
export type RawEntry = readonly [id: string, fields: readonly (string | Buffer)[] | null];

const isText = (value: unknown): value is string | Buffer =>
  typeof value === 'string' || Buffer.isBuffer(value);

/** Decodes a Redis string reply (ids, cursors, names) that may come as a Buffer. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number') return String(value);
  return undefined;
}

/**
 * The entries of a one-stream `XREADGROUP` reply (`null` when BLOCK timed out):
 * `[[stream, entries]]` (RESP2 shape), `[stream, entries]` (a RESP3 map flattened), or
 * `{ stream: entries }` (a RESP3 map as an object).
 */
export function readGroupEntries(reply: unknown): RawEntry[] {
  if (reply === null || typeof reply !== 'object') return [];
  if (!Array.isArray(reply)) return entryList(Object.values(reply)[0]);
  const [first, second] = reply as unknown[];
  if (Array.isArray(first)) return entryList(first[1]);
  if (isText(first)) return entryList(second);
  return [];
}

/** Keeps `[id, fields]` pairs; `fields` is null for an entry deleted while pending. */
export function entryList(value: unknown): RawEntry[] {
  if (!Array.isArray(value)) return [];
  const entries: RawEntry[] = [];
  for (const item of value) {
    if (!Array.isArray(item) || !isText(item[0])) continue;
    const fields = item[1];
    entries.push([text(item[0])!, Array.isArray(fields) ? (fields as (string | Buffer)[]) : null]);
  }
  return entries;
}

/** An `XAUTOCLAIM` reply: the cursor for the next call, the claimed entries, deleted ids. */
export interface AutoClaimReply {
  cursor: string;
  entries: RawEntry[];
  /** Ids that were pending but no longer exist (Redis 7 drops them from the PEL itself). */
  deletedIds: string[];
}

export function autoClaimReply(reply: unknown): AutoClaimReply {
  if (!Array.isArray(reply)) return { cursor: '0-0', entries: [], deletedIds: [] };
  const [cursor, entries, deleted] = reply as unknown[];
  const deletedIds: string[] = [];
  if (Array.isArray(deleted)) {
    for (const id of deleted) if (isText(id)) deletedIds.push(text(id)!);
  }
  return {
    cursor: isText(cursor) ? text(cursor)! : '0-0',
    entries: entryList(entries),
    deletedIds,
  };
}

/**
 * The delivery count of the one entry an extended `XPENDING key group id id 1 consumer`
 * asked about, or undefined when that consumer no longer owns it. (Same shape in RESP2 and
 * RESP3.)
 */
export function pendingDeliveryCount(reply: unknown): number | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [first] = reply as unknown[];
  if (!Array.isArray(first)) return undefined;
  const count = Number(first[3]);
  return Number.isFinite(count) ? count : undefined;
}

/** One group's figures from `XINFO GROUPS`. */
export interface GroupInfo {
  name: string;
  /** Entries delivered and not acknowledged (the PEL). */
  pending: number | undefined;
  /** Entries not yet delivered to the group; Redis 7+, and null when Redis cannot tell. */
  lag: number | undefined;
}

function fieldMap(item: unknown): Map<string, unknown> | undefined {
  const info = new Map<string, unknown>();
  if (Array.isArray(item)) {
    // RESP2, or a RESP3 map flattened: `[name, value, ...]`.
    for (let i = 0; i + 1 < item.length; i += 2) info.set(String(text(item[i])), item[i + 1]);
    return info;
  }
  if (item !== null && typeof item === 'object') {
    for (const [key, value] of Object.entries(item)) info.set(key, value);
    return info;
  }
  return undefined;
}

/** Parses `XINFO GROUPS`: one `[name, value, ...]` list, or one object, per group. */
export function groupInfos(reply: unknown): GroupInfo[] {
  if (!Array.isArray(reply)) return [];
  const groups: GroupInfo[] = [];
  for (const item of reply) {
    const info = fieldMap(item);
    if (!info) continue;
    const number = (key: string) => {
      const value = info.get(key);
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    };
    groups.push({
      name: String(text(info.get('name'))),
      pending: number('pending'),
      lag: number('lag'),
    });
  }
  return groups;
}

/**
 * Orders two entry ids (`<ms>-<seq>`) numerically: negative when `a` comes first. Both
 * parts fit in 64 bits, so they are compared as BigInts.
 */
export function compareEntryIds(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  try {
    const ms = BigInt(aMs) - BigInt(bMs);
    if (ms !== 0n) return ms < 0n ? -1 : 1;
    const seq = BigInt(aSeq) - BigInt(bSeq);
    return seq === 0n ? 0 : seq < 0n ? -1 : 1;
  } catch {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}
