import { describe, expect, it } from 'vitest';
import {
  autoClaimReply,
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

  it('reads the cursor, entries and deleted ids of XAUTOCLAIM', () => {
    expect(autoClaimReply(['5-0', [['3-0', ['a', '1']]], ['4-0']])).toEqual({
      cursor: '5-0',
      entries: [['3-0', ['a', '1']]],
      deletedIds: ['4-0'],
    });
    // Redis 6.2 has no third element.
    expect(autoClaimReply(['0-0', []])).toEqual({ cursor: '0-0', entries: [], deletedIds: [] });
    expect(autoClaimReply('nonsense')).toEqual({ cursor: '0-0', entries: [], deletedIds: [] });
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
  });
});
