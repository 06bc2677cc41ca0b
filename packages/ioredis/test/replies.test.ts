import { describe, expect, it } from 'vitest';
import {
  autoClaimReply,
  compareEntryIds,
  groupInfos,
  pendingDeliveryCount,
  readGroupEntries,
} from '../src/replies.js';

describe('reply parsers', () => {
  it('reads the entries of an XREADGROUP reply, null when BLOCK timed out', () => {
    expect(readGroupEntries(null)).toEqual([]);
    expect(readGroupEntries([['orders', [['1-0', ['a', '1']], ['2-0', null], 'garbage']]])).toEqual(
      [
        ['1-0', ['a', '1']],
        ['2-0', null],
      ],
    );
  });

  it('reads XREADGROUP in each RESP3 shape ioredis 6 returns, with Buffer replies', () => {
    const bytes = Buffer.from([0xff, 0xfe]);
    const entries = [[Buffer.from('1-0'), [Buffer.from('a'), bytes]]];
    const expected = [['1-0', [Buffer.from('a'), bytes]]];
    // RESP2, and RESP3 rewrapped by xreadgroupBuffer
    expect(readGroupEntries([[Buffer.from('orders'), entries]])).toEqual(expected);
    // RESP3 map flattened (call / callBuffer with the 'legacy' mapping)
    expect(readGroupEntries([Buffer.from('orders'), entries])).toEqual(expected);
    expect(readGroupEntries(['orders', []])).toEqual([]);
    // RESP3 map as an object (replyMapping 'resp3')
    expect(readGroupEntries({ orders: entries })).toEqual(expected);
    expect(readGroupEntries({})).toEqual([]);
    expect(readGroupEntries([42])).toEqual([]);
  });

  it('orders entry ids numerically', () => {
    expect(compareEntryIds('9-0', '10-0')).toBe(-1);
    expect(compareEntryIds('10-2', '10-10')).toBe(-1);
    expect(compareEntryIds('1718000000123-5', '1718000000123-5')).toBe(0);
    expect(compareEntryIds('18446744073709551615-0', '18446744073709551614-9')).toBe(1);
  });

  it('reads the cursor, entries and deleted ids of XAUTOCLAIM', () => {
    expect(autoClaimReply(['5-0', [['3-0', ['a', '1']]], ['4-0']])).toEqual({
      cursor: '5-0',
      entries: [['3-0', ['a', '1']]],
      deletedIds: ['4-0'],
    });
    // Redis 6.2 has no third element.
    expect(autoClaimReply(['0-0', []])).toEqual({ cursor: '0-0', entries: [], deletedIds: [] });
    expect(autoClaimReply('nonsense')).toEqual({ cursor: '0-0', entries: [], deletedIds: [] });
    expect(
      autoClaimReply([Buffer.from('5-0'), [[Buffer.from('3-0'), null]], [Buffer.from('4-0')]]),
    ).toEqual({ cursor: '5-0', entries: [['3-0', null]], deletedIds: ['4-0'] });
  });

  it('reads the delivery count of one extended XPENDING row', () => {
    expect(pendingDeliveryCount([['1-0', 'c1', 120, 3]])).toBe(3);
    expect(pendingDeliveryCount([])).toBeUndefined();
    expect(pendingDeliveryCount(null)).toBeUndefined();
  });

  it('reads pending and lag per group from XINFO GROUPS', () => {
    const reply = [
      [
        'name',
        'a',
        'consumers',
        1,
        'pending',
        2,
        'last-delivered-id',
        '1-0',
        'entries-read',
        3,
        'lag',
        4,
      ],
      [
        'name',
        'b',
        'consumers',
        0,
        'pending',
        0,
        'last-delivered-id',
        '0-0',
        'entries-read',
        null,
        'lag',
        null,
      ],
      ['name', 'old', 'consumers', 0, 'pending', 5, 'last-delivered-id', '0-0'],
    ];
    expect(groupInfos(reply)).toEqual([
      { name: 'a', pending: 2, lag: 4 },
      { name: 'b', pending: 0, lag: undefined },
      { name: 'old', pending: 5, lag: undefined },
    ]);
    expect(groupInfos(undefined)).toEqual([]);
    // RESP3 maps as objects (ioredis 6, replyMapping 'resp3')
    expect(groupInfos([{ name: 'a', consumers: 1, pending: 2, lag: null }])).toEqual([
      { name: 'a', pending: 2, lag: undefined },
    ]);
  });
});
