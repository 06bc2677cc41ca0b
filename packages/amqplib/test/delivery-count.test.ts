import { describe, expect, it } from 'vitest';
import { countDelivery, FailureCounts, messageKey } from '../src/delivery-count.js';
import type { AmqpMessage } from '../src/types.js';

const delivery = (body: string, redelivered: boolean, messageId?: string): AmqpMessage => ({
  content: Buffer.from(body),
  fields: { deliveryTag: 1, redelivered, exchange: '', routingKey: 'jobs' },
  properties: { headers: {}, messageId },
});

describe('FailureCounts', () => {
  it('keeps at most its limit, forgetting the oldest entry first', () => {
    const counts = new FailureCounts(2);
    counts.set('a', 1);
    counts.set('b', 1);
    counts.set('a', 2); // refreshed: now the newest
    counts.set('c', 1);
    expect(counts.size).toBe(2);
    expect([counts.get('a'), counts.get('b'), counts.get('c')]).toEqual([2, 0, 1]);
  });
});

describe('countDelivery', () => {
  it('counts a first delivery as 1 without a digest, and a redelivery from the failures seen', () => {
    const counts = new FailureCounts();
    expect(countDelivery(delivery('x', false), 'jobs', counts)).toEqual({
      count: 1,
      fromBroker: false,
      key: undefined,
    });
    const again = delivery('x', true);
    counts.set(messageKey(again, 'jobs'), 2);
    expect(countDelivery(again, 'jobs', counts).count).toBe(3);
  });

  it('tells messages apart by body, id and queue', () => {
    const key = messageKey(delivery('x', true, 'id-1'), 'jobs');
    expect(messageKey(delivery('x', true, 'id-1'), 'jobs')).toBe(key);
    expect(messageKey(delivery('y', true, 'id-1'), 'jobs')).not.toBe(key);
    expect(messageKey(delivery('x', true, 'id-2'), 'jobs')).not.toBe(key);
    expect(messageKey(delivery('x', true, 'id-1'), 'other')).not.toBe(key);
  });
});
