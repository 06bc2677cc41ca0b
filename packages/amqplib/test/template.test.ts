import { METRIC_CONSUMED_MESSAGES, METRIC_SENT_MESSAGES } from '@baton/core';
import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { routingKeyTemplate, traceChannel } from '../src/index.js';
import { FakeChannel } from './fake-channel.js';
import { useTracedChannels } from './traced.js';

const { telemetry, ofKind } = useTracedChannels();

describe('routingKeyTemplate', () => {
  const template = routingKeyTemplate('user.{id}.created', 'order.{region}.{id}');

  it('puts the pattern in place of a matching routing key, on either side', () => {
    expect(template('users:user.42.created')).toBe('users:user.{id}.created');
    expect(template('users:user.42.created:mailer')).toBe('users:user.{id}.created:mailer');
    expect(template('user.42.created')).toBe('user.{id}.created');
    expect(template('orders:order.eu.9f3a')).toBe('orders:order.{region}.{id}');
  });

  it('keeps names it does not match, and never matches across words or parts', () => {
    expect(template('users:user.created')).toBeUndefined();
    expect(template('users:user.4.2.created')).toBeUndefined();
    expect(template('users:xuser.42.created')).toBeUndefined();
    expect(template('users:user.42.created.v2')).toBeUndefined();
    expect(routingKeyTemplate()('anything')).toBeUndefined();
  });

  it('treats the literal parts of a pattern literally', () => {
    const dots = routingKeyTemplate('a.{x}');
    expect(dots('ab1')).toBeUndefined();
    expect(dots('a.1')).toBe('a.{x}');
  });
});

describe('destinationTemplate on a traced channel', () => {
  it('uses the template in span names and metric attributes, and keeps the full name on the span', async () => {
    const raw = new FakeChannel();
    const channel = traceChannel(raw, {
      tracerProvider: telemetry().tracerProvider,
      meterProvider: telemetry().meterProvider,
      destinationTemplate: routingKeyTemplate('user.{id}.created'),
    });
    await channel.consume('mailer', (msg) => msg && channel.ack(msg));
    for (const id of [1, 2, 3]) {
      channel.publish('users', `user.${id}.created`, Buffer.from('x'));
      raw.deliver(raw.message(raw.published.at(-1)));
    }
    const sends = ofKind(SpanKind.PRODUCER);
    const processes = ofKind(SpanKind.CONSUMER);
    expect(new Set(sends.map((s) => s.name))).toEqual(new Set(['send users:user.{id}.created']));
    expect(new Set(processes.map((s) => s.name))).toEqual(
      new Set(['process users:user.{id}.created:mailer']),
    );
    expect(sends.map((s) => s.attributes['messaging.destination.name'])).toEqual([
      'users:user.1.created',
      'users:user.2.created',
      'users:user.3.created',
    ]);
    expect(processes[2]?.attributes['messaging.destination.name']).toBe(
      'users:user.3.created:mailer',
    );
    expect(processes[2]?.attributes['messaging.destination.template']).toBe(
      'users:user.{id}.created:mailer',
    );
    // One series per template, not one per id; the name is not a metric attribute.
    const points = await telemetry().metricPoints();
    const series = (name: string) => points.filter((p) => p.name === name);
    expect(series(METRIC_SENT_MESSAGES).map((p) => [p.value, p.attributes])).toEqual([
      [
        3,
        {
          'messaging.system': 'rabbitmq',
          'messaging.operation.name': 'send',
          'messaging.destination.template': 'users:user.{id}.created',
        },
      ],
    ]);
    expect(series(METRIC_CONSUMED_MESSAGES)).toHaveLength(1);
    for (const point of points) {
      expect(point.attributes, point.name).not.toHaveProperty('messaging.destination.name');
    }
  });
});
