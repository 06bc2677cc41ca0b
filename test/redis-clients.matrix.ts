import { createRequire } from 'node:module';
import { Redis, type RedisOptions } from 'ioredis';

// The compatibility matrix's test/redis-clients.ts (matrix/run.mjs copies this file in its
// place): a row installs one ioredis, not the workspace's `ioredis6` alias beside ioredis 5,
// so the clients are that one's. ioredis 5 speaks RESP2 only; with ioredis 6 every Redis
// test runs three times: RESP2, RESP3 (its default, legacy reply mapping) and RESP3 with
// `replyMapping: 'resp3'`.
export { groupInfo, replyEntries } from './redis-replies.js';

export interface RedisClientVariant {
  name: string;
  create(url: string, options?: RedisOptions): Redis;
}

const { version } = createRequire(import.meta.url)('ioredis/package.json') as { version: string };
const major = Number(version.split('.')[0]);
// ioredis 6's options; ioredis 5's declarations, which the tests compile against, lack them.
const with6 = (options: RedisOptions, extra: object) => ({ ...options, ...extra }) as RedisOptions;

export const REDIS_CLIENTS: readonly RedisClientVariant[] =
  major >= 6
    ? [
        {
          name: `ioredis ${version} (RESP2)`,
          create: (url, options = {}) => new Redis(url, with6(options, { protocol: 2 })),
        },
        {
          name: `ioredis ${version} (RESP3)`,
          create: (url, options = {}) => new Redis(url, with6(options, { protocol: 3 })),
        },
        {
          name: `ioredis ${version} (RESP3, replyMapping resp3)`,
          create: (url, options = {}) =>
            new Redis(url, with6(options, { protocol: 3, replyMapping: 'resp3' })),
        },
      ]
    : [{ name: `ioredis ${version}`, create: (url, options = {}) => new Redis(url, options) }];
