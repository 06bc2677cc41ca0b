import { describe, expect, it } from 'vitest';
import {
  brokerDeliveryCount,
  consumeDestination,
  creationTimeMs,
  describeDelivery,
  publishDestination,
} from '../src/message.js';
import type { AmqpMessage } from '../src/types.js';

const message = (
  properties: AmqpMessage['properties'],
  fields: Partial<AmqpMessage['fields']> = {},
): AmqpMessage => ({
  content: Buffer.from(''),
  fields: {
    deliveryTag: 7,
    redelivered: false,
    exchange: 'users',
    routingKey: 'created',
    ...fields,
  },
  properties,
});

describe('destination names (semconv RabbitMQ page)', () => {
  it('names a publish {exchange}:{routing key}, either alone, or amq.default', () => {
    expect(publishDestination('', 'jobs')).toBe('jobs'); // sendToQueue('jobs')
    expect(publishDestination('users', 'user.created')).toBe('users:user.created');
    expect(publishDestination('fanout', '')).toBe('fanout');
    expect(publishDestination('', '')).toBe('amq.default');
  });

  it('names a delivery {exchange}:{routing key}:{queue}, empty parts and a repeated queue name left out', () => {
    expect(consumeDestination('users', 'user.created', 'mailer')).toBe('users:user.created:mailer');
    expect(consumeDestination('', 'jobs', 'jobs')).toBe('jobs'); // sendToQueue('jobs')
    expect(consumeDestination('direct', 'jobs', 'jobs')).toBe('direct:jobs');
    expect(consumeDestination('fanout', '', 'audit')).toBe('fanout:audit');
    expect(consumeDestination('', 'dlq', 'parked')).toBe('dlq:parked');
    expect(consumeDestination('users', 'user.created', '')).toBe('users:user.created');
    expect(consumeDestination('', '', '')).toBe('amq.default');
  });
});

describe('creationTimeMs', () => {
  it('prefers the millisecond header, as a number or a string', () => {
    const timestamp = 1_700_000_000; // seconds
    expect(
      creationTimeMs(
        message({ headers: { timestamp_in_ms: 1_700_000_000_123 }, timestamp }),
        'timestamp_in_ms',
      ),
    ).toBe(1_700_000_000_123);
    expect(
      creationTimeMs(message({ headers: { timestamp_in_ms: '1700000000456' } }), 'timestamp_in_ms'),
    ).toBe(1_700_000_000_456);
    expect(
      creationTimeMs(
        message({ headers: { Timestamp_In_Ms: Buffer.from('1700000000789') } }),
        'timestamp_in_ms',
      ),
    ).toBe(1_700_000_000_789);
  });

  it('falls back to the seconds timestamp property, and tolerates milliseconds in it', () => {
    expect(
      creationTimeMs(message({ headers: {}, timestamp: 1_700_000_000 }), 'timestamp_in_ms'),
    ).toBe(1_700_000_000_000);
    expect(creationTimeMs(message({ timestamp: 1_700_000_000_123 }), 'timestamp_in_ms')).toBe(
      1_700_000_000_123,
    );
    expect(
      creationTimeMs(
        message({ headers: { timestamp_in_ms: 'garbage' }, timestamp: 10 }),
        'timestamp_in_ms',
      ),
    ).toBe(10_000);
  });

  it('ignores the header when publishTimeHeader is off, and garbage timestamps', () => {
    expect(creationTimeMs(message({ headers: { timestamp_in_ms: 5 } }), false)).toBeUndefined();
    expect(creationTimeMs(message({ timestamp: 'yesterday' }), false)).toBeUndefined();
    expect(creationTimeMs(message({ timestamp: -1 }), false)).toBeUndefined();
  });
});

describe('describeDelivery', () => {
  it('describes a dead-lettered, redelivered quorum-queue message', () => {
    const described = describeDelivery(
      message(
        {
          headers: {
            'x-death': [
              { count: 2, reason: 'rejected', queue: 'work' },
              { count: 1, reason: 'expired', queue: 'work.retry' },
              'garbage',
            ],
            'x-first-death-reason': 'rejected',
            'x-delivery-count': 3,
          },
          messageId: 'm-9',
        },
        { redelivered: true },
      ),
      { queue: 'work', timeHeader: 'timestamp_in_ms' },
    );
    expect(described).toMatchObject({
      system: 'rabbitmq',
      destination: 'users:created:work',
      messageId: 'm-9',
      deliveryCount: 4,
      attributes: {
        'messaging.rabbitmq.message.delivery_tag': 7,
        'baton.rabbitmq.message.redelivered': true,
        'messaging.rabbitmq.destination.routing_key': 'created',
        'baton.rabbitmq.message.death_count': 3,
        'baton.rabbitmq.message.first_death_reason': 'rejected',
      },
    });
    expect(described.conversationId).toBeUndefined();
  });

  it("takes AMQP's correlationId property as the conversation id, and the message for hooks", () => {
    const msg = message({ correlationId: 'rpc-42' });
    const described = describeDelivery(msg, {
      queue: 'work',
      timeHeader: false,
      server: { serverAddress: '10.0.0.7', serverPort: 5672 },
    });
    expect(described.conversationId).toBe('rpc-42');
    expect(described.message).toBe(msg);
    expect(described.serverAddress).toBe('10.0.0.7');
    expect(described.serverPort).toBe(5672);
  });

  it('describes a message with no properties at all', () => {
    const described = describeDelivery(message({}, { routingKey: '' }), {
      queue: 'q',
      timeHeader: 'timestamp_in_ms',
    });
    expect(described.messageId).toBeUndefined();
    expect(described.timestampMs).toBeUndefined();
    expect(described.deliveryCount).toBeUndefined();
    expect(described.attributes).toEqual({
      'messaging.rabbitmq.message.delivery_tag': 7,
      'baton.rabbitmq.message.redelivered': false,
    });
  });
});

describe('own headers only', () => {
  // What amqplib's table decoder makes of a header table named `__proto__`.
  const inherited = (table: Record<string, unknown>) =>
    Object.setPrototypeOf({}, table) as Record<string, unknown>;

  it('reads nothing a header table only inherits', () => {
    const headers = inherited({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'x-correlation-id': 'inherited',
      'x-delivery-count': 9,
      'x-acquired-count': 9,
      'x-first-death-reason': 'expired',
      'x-death': [{ count: 4 }],
      timestamp_in_ms: 1000,
    });
    const described = describeDelivery(message({ headers }), {
      queue: 'q',
      timeHeader: 'timestamp_in_ms',
    });
    expect(Object.keys(described.headers ?? {})).toEqual([]);
    expect(described.headers?.traceparent).toBeUndefined();
    expect(described.deliveryCount).toBeUndefined();
    expect(described.timestampMs).toBeUndefined();
    expect(described.attributes).not.toHaveProperty('baton.rabbitmq.message.death_count');
    expect(described.attributes).not.toHaveProperty('baton.rabbitmq.message.first_death_reason');
  });

  it('keeps the own headers of such an object, and ignores inherited x-death counts', () => {
    const headers = inherited({ traceparent: 'inherited' });
    headers['x-correlation-id'] = 'own';
    headers['x-death'] = [
      Object.setPrototypeOf({ reason: 'rejected' }, { count: 50 }),
      { count: 2 },
    ];
    const described = describeDelivery(message({ headers }), { queue: 'q', timeHeader: false });
    expect({ ...described.headers }).toEqual({
      'x-correlation-id': 'own',
      'x-death': headers['x-death'],
    });
    expect(described.attributes?.['baton.rabbitmq.message.death_count']).toBe(2);
  });
});

describe('brokerDeliveryCount', () => {
  it('counts from x-delivery-count or x-acquired-count (RabbitMQ 4.3), whichever is higher', () => {
    expect(brokerDeliveryCount({ 'x-delivery-count': 2 })).toBe(3);
    expect(brokerDeliveryCount({ 'x-delivery-count': 1, 'x-acquired-count': 4 })).toBe(5);
    expect(brokerDeliveryCount({})).toBeUndefined();
    expect(brokerDeliveryCount({ 'x-delivery-count': -3 })).toBeUndefined();
    expect(brokerDeliveryCount({ 'x-delivery-count': 'many' })).toBeUndefined();
  });
});
