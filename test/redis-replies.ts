import type { Redis } from 'ioredis';

// Reply helpers for the Redis tests, apart from test/redis-clients.ts so that the
// compatibility matrix (matrix/run.mjs), which installs one ioredis per row, can reuse them
// beside its own list of clients.

/** One group's `XINFO GROUPS` fields, whichever shape the client returns (list or object). */
export async function groupInfo(
  redis: Redis,
  stream: string,
): Promise<Record<string, unknown> | undefined> {
  const [group] = (await redis.xinfo('GROUPS', stream)) as unknown[];
  if (!Array.isArray(group)) return group as Record<string, unknown> | undefined;
  return Object.fromEntries(
    Array.from({ length: group.length / 2 }, (_, i) => [group[2 * i], group[2 * i + 1]]),
  );
}

/** The entries of a one-stream XREADGROUP reply: RESP2 pairs or a RESP3 map object. */
export function replyEntries<T>(reply: unknown): Array<[string, T[]]> {
  if (reply === null) return [];
  if (Array.isArray(reply)) return reply as Array<[string, T[]]>;
  return Object.entries(reply as Record<string, T[]>);
}
