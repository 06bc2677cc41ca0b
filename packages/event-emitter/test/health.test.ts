import { checkReadiness } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { createEventBus, healthOf } from '../src/index.js';

type Events = { 'user.registered': { id: string }; 'notification.sent': { id: string } };
const quiet = { onError: () => {} };

describe('healthOf (event-emitter)', () => {
  it('lists each event and consumer group subscribed through the view, running while subscribed', async () => {
    const bus = createEventBus<Events>(quiet);
    expect(healthOf(bus)).toEqual([]);
    const unsubscribe = bus.subscribe('user.registered', () => {}, { consumerGroup: 'mailer' });
    bus.subscribe('user.registered', () => {}, { consumerGroup: 'mailer' }); // same entry
    bus.subscribe('notification.sent', () => {});
    expect(healthOf(bus)).toEqual([
      {
        system: 'in_process',
        destination: 'user.registered',
        consumerGroup: 'mailer',
        running: true,
        connected: true,
        lag: 0,
      },
      {
        system: 'in_process',
        destination: 'notification.sent',
        running: true,
        connected: true,
        lag: 0,
      },
    ]);
    expect(checkReadiness(healthOf(bus)).ready).toBe(true);
    unsubscribe();
    expect(healthOf(bus).map((h) => h.destination)).toEqual([
      'user.registered', // the second mailer handler is still subscribed
      'notification.sent',
    ]);
  });

  it('counts queued deliveries as lag, and records the last delivery and handler error', async () => {
    const bus = createEventBus<Events>(quiet);
    bus.subscribe(
      'user.registered',
      ({ id }) => {
        if (id === 'bad') throw new TypeError('no such user');
      },
      { consumerGroup: 'mailer' },
    );
    const before = Date.now();
    for (const id of ['a', 'b', 'bad']) bus.publish('user.registered', { id });
    // Delivery is asynchronous: three queued.
    expect(healthOf(bus)[0]?.lag).toBe(3);
    expect(checkReadiness(healthOf(bus), { maxLag: 2 }).reasons).toEqual([
      'in_process user.registered (mailer): lag 3 above 2',
    ]);
    await bus.idle();
    const [health] = healthOf(bus);
    expect(health?.lag).toBe(0);
    expect(health?.lastPollAtMs).toBeGreaterThanOrEqual(before);
    expect(health?.lastError).toBe('TypeError: no such user');
    // A failing handler does not make the subscriber unready.
    expect(checkReadiness(healthOf(bus), { maxLag: 2 }).ready).toBe(true);
  });

  it('gives each withOptions view its own subscriptions', () => {
    const bus = createEventBus<Events>(quiet);
    const mailer = bus.withOptions({});
    const audit = bus.withOptions({});
    mailer.subscribe('user.registered', () => {}, { consumerGroup: 'mailer' });
    audit.subscribe('user.registered', () => {}, { consumerGroup: 'audit' });
    expect(healthOf(mailer).map((h) => h.consumerGroup)).toEqual(['mailer']);
    expect(healthOf(audit).map((h) => h.consumerGroup)).toEqual(['audit']);
    expect(healthOf(bus)).toEqual([]);
  });

  it('is empty for anything else, and a strange throw never breaks it', async () => {
    for (const value of [null, undefined, 42, 'bus', {}])
      expect(healthOf(value as object)).toEqual([]);
    const bus = createEventBus<Events>(quiet);
    const hostile = {
      toString() {
        throw new Error('no');
      },
    };
    bus.subscribe('user.registered', () => {
      throw hostile;
    });
    bus.publish('user.registered', { id: 'x' });
    await bus.idle();
    expect(healthOf(bus)[0]?.lastError).toBe('a handler failed');
  });
});
