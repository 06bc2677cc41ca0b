import { EventEmitter } from 'node:events';
import { checkReadiness } from '@baton/core';
import { waitFor } from '@baton/testing';
import { describe, expect, it } from 'vitest';
import {
  healthOf,
  type LagChannel,
  type LagConnection,
  traceChannel,
  traceConsumer,
  traceProducer,
} from '../src/index.js';
import { FakeChannel } from './fake-channel.js';

// A channel with amqplib's connection object: its 'close' carries a forced close's reason.
const channelOnConnection = () => {
  const connection = Object.assign(new EventEmitter(), { stream: {} });
  return { raw: Object.assign(new FakeChannel(), { connection }), connection };
};

describe('healthOf', () => {
  it('reports each consumed queue running and connected, and when it last had a delivery', async () => {
    const raw = new FakeChannel();
    const channel = traceChannel(raw);
    expect(healthOf(channel)).toEqual([]);
    await channel.consume('jobs', () => {});
    await channel.consume('jobs', () => {});
    await channel.consume('audit', () => {});
    expect(healthOf(channel)).toEqual([
      { system: 'rabbitmq', destination: 'jobs', running: true, connected: true },
      { system: 'rabbitmq', destination: 'audit', running: true, connected: true },
    ]);
    const before = Date.now();
    raw.deliver(raw.message(undefined));
    const [jobs] = healthOf(channel);
    expect(jobs?.lastPollAtMs).toBeGreaterThanOrEqual(before);
    expect(checkReadiness(healthOf(channel))).toMatchObject({ ready: true, reasons: [] });
  });

  it('counts a successful get as a poll of a consumed queue', async () => {
    const raw = new FakeChannel();
    const channel = traceChannel(raw);
    await channel.consume('jobs', () => {});
    expect(healthOf(channel)[0]?.lastPollAtMs).toBeUndefined();
    await channel.get('jobs');
    expect(healthOf(channel)[0]?.lastPollAtMs).toBeTypeOf('number');
  });

  it('drops a queue the application stopped consuming, and one whose consume failed', async () => {
    const raw = new FakeChannel();
    const channel = traceChannel(raw);
    const { consumerTag } = await channel.consume('jobs', () => {});
    await channel.consume('jobs', () => {});
    await channel.cancel(consumerTag);
    expect(healthOf(channel).map((h) => h.destination)).toEqual(['jobs']);
    raw.closed = true;
    await expect(channel.consume('missing', () => {})).rejects.toThrow('Channel closed');
    expect(healthOf(channel).map((h) => h.destination)).toEqual(['jobs']);
  });

  it('reports a consumer the broker cancelled as not running, with the reason', async () => {
    const raw = new FakeChannel();
    const channel = traceChannel(raw);
    const { consumerTag } = await channel.consume('jobs', () => {});
    raw.deliver(null);
    await channel.cancel(consumerTag); // the application's own cancel after it: no double count
    expect(healthOf(channel)).toEqual([
      {
        system: 'rabbitmq',
        destination: 'jobs',
        running: false,
        connected: true,
        lastError: 'the broker cancelled the consumer (queue deleted or unavailable)',
      },
    ]);
    const readiness = checkReadiness(healthOf(channel));
    expect(readiness.ready).toBe(false);
    expect(readiness.reasons).toEqual([
      'rabbitmq jobs: consumer not running',
      'rabbitmq jobs: last error: the broker cancelled the consumer (queue deleted or unavailable)',
    ]);
  });

  it('turns not running and not connected when the channel closes, with its connection’s close reason', async () => {
    const { raw, connection } = channelOnConnection();
    const channel = traceChannel(raw);
    await channel.consume('jobs', () => {});
    raw.emit('close');
    expect(healthOf(channel)[0]).toMatchObject({
      running: false,
      connected: false,
      lastError: 'the channel closed',
    });
    const forced = new Error('Connection closed: 320 (CONNECTION-FORCED) with message "bye"');
    connection.emit('close', forced);
    expect(healthOf(channel)[0]?.lastError).toBe(`Error: ${forced.message}`);
    expect(checkReadiness(healthOf(channel)).reasons).toEqual([
      'rabbitmq jobs: consumer not running',
      `rabbitmq jobs: last error: Error: ${forced.message}`,
    ]);
  });

  it('shares one close listener per connection, and lets go of closed channels', async () => {
    const { raw, connection } = channelOnConnection();
    const raws = [
      raw,
      ...Array.from({ length: 20 }, () => Object.assign(new FakeChannel(), { connection })),
    ];
    const [first, second, ...rest] = raws.map((each) => traceChannel(each));
    for (const each of [first, second, ...rest]) await each?.consume('jobs', () => {});
    expect(connection.listenerCount('close')).toBe(1);
    raw.emit('close');
    await Promise.resolve();
    connection.emit('close', new Error('later'));
    expect(healthOf(first as object)[0]?.lastError).toBe('the channel closed');
    expect(healthOf(second as object)[0]?.lastError).toBe('Error: later');
  });

  it('reports the queue depth the lag monitor read', async () => {
    const lagConnection: LagConnection = {
      createChannel: async () =>
        Object.assign(new EventEmitter(), {
          checkQueue: async () => ({ messageCount: 42 }),
          close: async () => {},
        }) as unknown as LagChannel,
    };
    const channel = traceChannel(new FakeChannel(), { lagConnection, lagIntervalMs: 5 });
    await channel.consume('jobs', () => {});
    await waitFor(() => healthOf(channel)[0]?.lag === 42);
    expect(checkReadiness(healthOf(channel), { maxLag: 10 }).reasons).toEqual([
      'rabbitmq jobs: lag 42 above 10',
    ]);
  });

  it('finds the consumer side under a producer wrapper, and nothing on a producer alone', async () => {
    const producerOnly = traceProducer(new FakeChannel());
    expect(healthOf(producerOnly)).toEqual([]);
    const outer = traceProducer(traceConsumer(new FakeChannel()));
    await outer.consume('jobs', () => {});
    expect(healthOf(outer).map((h) => h.destination)).toEqual(['jobs']);
    expect(healthOf({})).toEqual([]);
  });
});
