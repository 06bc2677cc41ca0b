import { Redis as Redis5, type RedisOptions } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';

export { groupInfo, replyEntries } from './redis-replies.js';

/**
 * The ioredis majors in @baton/ioredis's peer range, each as the test files create it.
 * ioredis 6 speaks RESP3 by default (HELLO 3), with RESP2-shaped replies for the commands
 * it knows by name ('legacy' reply mapping); `replyMapping: 'resp3'` returns maps as
 * objects. ioredis 5 has no `protocol` option: it speaks RESP2 only (its parser reads no
 * RESP3 types), so it has one variant.
 */
export interface RedisClientVariant {
  name: string;
  create(url: string, options?: RedisOptions): Redis5;
}

// Both majors' `Redis` classes have private members, so TypeScript treats them as distinct
// types; @baton/ioredis is compiled against ioredis 5's declarations and calls only methods
// both majors have. A user with ioredis 6 alone gets ioredis 6's declarations.
const asRedis = (client: Redis6): Redis5 => client as unknown as Redis5;

export const REDIS_CLIENTS: readonly RedisClientVariant[] = [
  { name: 'ioredis 5', create: (url, options = {}) => new Redis5(url, options) },
  {
    name: 'ioredis 6 (RESP3)',
    create: (url, options = {}) => asRedis(new Redis6(url, options as never)),
  },
  {
    name: 'ioredis 6 (RESP3, replyMapping resp3)',
    create: (url, options = {}) =>
      asRedis(new Redis6(url, { ...(options as object), protocol: 3, replyMapping: 'resp3' })),
  },
];
