import type { RawStreamEntry } from './types.js';

// Parsers for the replies of the stream commands the runner sends. Redis replies are
// nested arrays; anything of an unexpected shape is skipped, never thrown on.

/** The entries of a one-stream `XREADGROUP` reply (`null` when BLOCK timed out). */
export function readGroupEntries(reply: unknown): RawStreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const [first] = reply as unknown[];
  if (!Array.isArray(first)) return [];
  return entryList(first[1]);
}

/** Keeps `[id, fields]` pairs; `fields` is null for an entry deleted while pending. */
export function entryList(value: unknown): RawStreamEntry[] {
  if (!Array.isArray(value)) return [];
  const entries: RawStreamEntry[] = [];
  for (const item of value) {
    if (!Array.isArray(item) || typeof item[0] !== 'string') continue;
    entries.push([item[0], Array.isArray(item[1]) ? (item[1] as string[]) : null]);
  }
  return entries;
}

/** An `XAUTOCLAIM` reply: the cursor for the next call, the claimed entries, deleted ids. */
export interface AutoClaimReply {
  cursor: string;
  entries: RawStreamEntry[];
  /** Ids that were pending but no longer exist (Redis 7 drops them from the PEL itself). */
  deletedIds: string[];
}

export function autoClaimReply(reply: unknown): AutoClaimReply {
  if (!Array.isArray(reply)) return { cursor: '0-0', entries: [], deletedIds: [] };
  const [cursor, entries, deleted] = reply as unknown[];
  return {
    cursor: typeof cursor === 'string' ? cursor : '0-0',
    entries: entryList(entries),
    deletedIds: Array.isArray(deleted)
      ? deleted.filter((id): id is string => typeof id === 'string')
      : [],
  };
}

/**
 * The delivery count of the one entry an extended `XPENDING key group id id 1 consumer`
 * asked about, or undefined when that consumer no longer owns it.
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

/** Parses `XINFO GROUPS` (RESP2: one flat `[name, value, ...]` list per group). */
export function groupInfos(reply: unknown): GroupInfo[] {
  if (!Array.isArray(reply)) return [];
  const groups: GroupInfo[] = [];
  for (const item of reply) {
    if (!Array.isArray(item)) continue;
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < item.length; i += 2) info.set(String(item[i]), item[i + 1]);
    const number = (key: string) => {
      const value = info.get(key);
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    };
    groups.push({ name: String(info.get('name')), pending: number('pending'), lag: number('lag') });
  }
  return groups;
}
