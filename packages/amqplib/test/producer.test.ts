import { METRIC_SENT_MESSAGES, withCorrelationId } from '@baton/core';
import { createTestTelemetry, sumMetric, type TestTelemetry } from '@baton/testing';
import { diag, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AmqplibOptions, traceChannel } from '../src/index.js';
import { FakeChannel } from './fake-channel.js';

let telemetry: TestTelemetry;
beforeEach(() => {
  telemetry = createTestTelemetry();
});
afterEach(async () => {
  await telemetry.shutdown();
  vi.restoreAllMocks();
});

const wrap = (channel: FakeChannel, extra: AmqplibOptions = {}) =>
  traceChannel(channel, {
    ...telemetry.providers,
    ...extra,
  });
const sends = () => telemetry.spans().filter((s) => s.kind === SpanKind.PRODUCER);

describe('traceChannel publish', () => {
  it('sends a copy of the options with context headers and leaves the caller objects alone', () => {
    const raw = new FakeChannel();
    const channel = wrap(raw);
    const headers = Object.freeze({ app: 'kept', traceparent: 'stale' });
    const options = Object.freeze({
      headers,
      correlationId: 'rpc-1',
      replyTo: 'replies',
      messageId: 'm-1',
    });
    withCorrelationId('corr-1', () =>
      channel.publish('users', 'user.created', Buffer.from('x'), options),
    );
    const sent = raw.published[0]?.options as Record<string, Record<string, unknown>>;
    expect(sent).not.toBe(options);
    expect(sent.correlationId).toBe('rpc-1');
    expect(sent.replyTo).toBe('replies');
    expect(sent.headers?.app).toBe('kept');
    expect(sent.headers?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(sent.headers?.['x-correlation-id']).toBe('corr-1');
    // No publish-time header unless asked (RabbitMQ's 64-byte cliff).
    expect(sent.headers).not.toHaveProperty('timestamp_in_ms');
    expect(options.headers).toEqual({ app: 'kept', traceparent: 'stale' });
    const [span] = sends();
    expect(span?.name).toBe('send users:user.created');
    expect(span?.attributes['messaging.message.id']).toBe('m-1');
  });

  it('stamps the publish time only when asked, and keeps an application header', () => {
    const raw = new FakeChannel();
    wrap(raw, { publishTimeHeader: true }).sendToQueue('q', Buffer.from('x'), {
      headers: { timestamp_in_ms: '42' },
    });
    wrap(new FakeChannel()); // a second wrapper must not disturb the first
    const stamped = new FakeChannel();
    const before = Date.now();
    wrap(stamped, { publishTimeHeader: true }).sendToQueue('q', Buffer.from('x'));
    const named = new FakeChannel();
    wrap(named, { publishTimeHeader: 'sent_at' }).sendToQueue('q', Buffer.from('x'));
    const off = new FakeChannel();
    wrap(off).sendToQueue('q', Buffer.from('x'));
    const explicitOff = new FakeChannel();
    wrap(explicitOff, { publishTimeHeader: false }).sendToQueue('q', Buffer.from('x'));
    const headersOf = (c: FakeChannel) =>
      c.published[0]?.options?.headers as Record<string, unknown> | undefined;
    expect(headersOf(raw)?.timestamp_in_ms).toBe('42');
    expect(headersOf(stamped)?.timestamp_in_ms).toBeGreaterThanOrEqual(before);
    expect(typeof headersOf(named)?.sent_at).toBe('number');
    expect(headersOf(off)).not.toHaveProperty('timestamp_in_ms');
    expect(headersOf(explicitOff)).not.toHaveProperty('timestamp_in_ms');
    expect(sends()[0]?.name).toBe('send q');
  });

  it('returns the client boolean unchanged, so back-pressure works as without Baton', () => {
    const raw = new FakeChannel();
    const channel = wrap(raw);
    raw.writable = false;
    expect(channel.sendToQueue('q', Buffer.from('x'))).toBe(false);
    raw.writable = true;
    expect(channel.publish('ex', 'k', Buffer.from('x'))).toBe(true);
  });

  it('rethrows the client error unchanged and ends the span as an error', () => {
    const raw = new FakeChannel();
    const channel = wrap(raw);
    raw.closed = true;
    let thrown: unknown;
    try {
      channel.sendToQueue('q', Buffer.from('x'));
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error).message).toBe('Channel closed');
    expect(sends()[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('ends a confirm-channel send span on the broker ack, and as an error on a nack', async () => {
    const raw = new FakeChannel(true);
    const channel = wrap(raw);
    const replies: unknown[] = [];
    channel.publish('ex', 'k', Buffer.from('1'), {}, (error) => replies.push(error));
    channel.sendToQueue('q', Buffer.from('2')); // no callback of its own
    expect(sends()).toHaveLength(0);
    raw.confirm(0);
    raw.confirm(1, new Error('message nacked'));
    await vi.waitFor(() => expect(sends()).toHaveLength(2));
    expect(replies).toEqual([null]);
    const [acked, nacked] = sends();
    expect(acked?.status.code).toBe(SpanStatusCode.UNSET);
    expect(nacked?.status.code).toBe(SpanStatusCode.ERROR);
    const points = await telemetry.metricPoints();
    expect(sumMetric(points, METRIC_SENT_MESSAGES, { 'error.type': 'Error' })).toBe(1);
  });
});

describe('traceChannel wrapping', () => {
  it('leaves the original channel untouched and runs other methods on it', () => {
    const raw = new FakeChannel();
    const publish = raw.publish;
    const channel = wrap(raw);
    expect(raw.publish).toBe(publish);
    expect(channel.whoAmI().self).toBe(raw);
    expect(channel.whoAmI).toBe(channel.whoAmI);
    expect(channel.chain()).toBe(channel); // chained calls stay on the traced view
    expect(channel.published).toBe(raw.published);
  });

  it('returns an already traced channel as is, so spans are not doubled', () => {
    const channel = wrap(new FakeChannel());
    expect(wrap(channel)).toBe(channel);
    channel.sendToQueue('q', Buffer.from('x'));
    expect(sends()).toHaveLength(1);
  });

  it('warns once per bad option and uses the default', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const raw = new FakeChannel();
    wrap(raw, {
      ackMode: 'sometimes' as never,
      failureMode: 'explode' as never,
      publishTimeHeader: 42 as never,
    }).sendToQueue('q', Buffer.from('x'));
    expect(warn).toHaveBeenCalledTimes(3);
    expect(warn.mock.calls[0]?.[0]).toMatch(/^@baton\/amqplib: ignoring invalid option ackMode/);
    // The default: no publish-time header.
    expect(raw.published[0]?.options?.headers).not.toHaveProperty('timestamp_in_ms');
    expect(raw.published[0]?.options?.headers).toHaveProperty('x-correlation-id');
  });

  it('returns non-channels untraced with a warning', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    expect(traceChannel(undefined as never)).toBeUndefined();
    expect(warn).toHaveBeenCalledOnce();
  });
});
