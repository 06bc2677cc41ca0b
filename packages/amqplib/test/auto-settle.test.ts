import { diag, SpanKind } from '@opentelemetry/api';
import { describe, expect, it, vi } from 'vitest';
import type { AmqplibErrorInfo, AmqpMessage } from '../src/index.js';
import { FakeChannel } from './fake-channel.js';
import { useTracedChannels } from './traced.js';

const { wrap, ofKind, eventsOf, roundTrip } = useTracedChannels();

describe('traceChannel consume (ackMode auto)', () => {
  const reported = () => {
    const reports: Array<{ error: unknown; info: AmqplibErrorInfo }> = [];
    return {
      reports,
      onError: (error: unknown, info: AmqplibErrorInfo) => reports.push({ error, info }),
    };
  };

  it('acks after a handler succeeds and rejects with requeue when it throws or rejects', async () => {
    const raw = new FakeChannel();
    const { reports, onError } = reported();
    const channel = wrap(raw, { ackMode: 'auto', onError });
    await channel.consume('jobs', async (msg) => {
      if (msg?.content.toString() !== 'ok') throw new Error('nope');
    });
    await raw.deliver(roundTrip(channel, raw, 'ok'));
    await raw.deliver(roundTrip(channel, raw, 'async failure'));
    expect(raw.settles).toEqual([
      { op: 'ack', tag: 1, allUpTo: undefined },
      { op: 'reject', tag: 2, requeue: true },
    ]);
    expect(eventsOf('ack')).toHaveLength(1);
    expect(eventsOf('reject')).toHaveLength(1);
    expect(
      reports.map(({ error, info }) => [
        (error as Error).message,
        info.operation,
        info.requeue,
        info.destination,
        info.queue,
        info.deliveryCount,
      ]),
    ).toEqual([['nope', 'process', true, 'jobs', 'jobs', 1]]);
    expect(reports[0]?.info.message.content.toString()).toBe('async failure');
  });

  it('rejects without requeue in dead-letter mode, also for a synchronous throw', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw, { ackMode: 'auto', failureMode: 'dead-letter', onError: () => {} });
    await channel.consume('jobs', () => {
      throw new Error('sync');
    });
    expect(raw.deliver(roundTrip(channel, raw))).toBeUndefined();
    expect(raw.settles).toEqual([{ op: 'reject', tag: 1, requeue: false }]);
  });

  it('rejects without requeue once a message has been delivered maxDeliveries times', async () => {
    const raw = new FakeChannel();
    const { reports, onError } = reported();
    const channel = wrap(raw, { ackMode: 'auto', maxDeliveries: 3, onError });
    await channel.consume('jobs', () => {
      throw new Error('poison');
    });
    const first = roundTrip(channel, raw, 'poison');
    raw.deliver(first);
    // A classic queue marks redeliveries but does not count them: Baton does.
    for (let i = 0; i < 2; i++)
      raw.deliver({ ...first, fields: { ...first.fields, deliveryTag: 2 + i, redelivered: true } });
    expect(raw.settles.map((s) => s.requeue)).toEqual([true, true, false]);
    expect(reports.map(({ info }) => info.deliveryCount)).toEqual([1, 2, 3]);
  });

  it('takes the higher of the broker count and its own, so a published x-delivery-count cannot keep a poison message cycling', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw, { ackMode: 'auto', maxDeliveries: 2, onError: () => {} });
    await channel.consume('jobs', () => {
      throw new Error('poison');
    });
    const first = roundTrip(channel, raw, 'stuck');
    first.properties.headers = { ...first.properties.headers, 'x-delivery-count': 0 };
    raw.deliver(first);
    raw.deliver({ ...first, fields: { ...first.fields, deliveryTag: 2, redelivered: true } });
    expect(raw.settles.map((s) => s.requeue)).toEqual([true, false]);
  });

  it('does not settle what the handler settled itself, alone, with allUpTo or ackAll', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw, { ackMode: 'auto' });
    const held: AmqpMessage[] = [];
    await channel.consume('jobs', (msg) => {
      if (!msg) return;
      const body = msg.content.toString();
      if (body === 'self') channel.ack(msg);
      if (body === 'hold') held.push(msg);
      if (body === 'upto') channel.ack(msg, true);
      if (body === 'all') channel.ackAll();
    });
    raw.deliver(roundTrip(channel, raw, 'self'));
    raw.deliver(roundTrip(channel, raw, 'upto'));
    raw.deliver(roundTrip(channel, raw, 'all'));
    expect(raw.settles.map((s) => s.op)).toEqual(['ack', 'ack', 'ackAll']);
    expect(held).toEqual([]);
  });

  it('leaves noAck deliveries unsettled', async () => {
    const raw = new FakeChannel();
    const channel = wrap(raw, { ackMode: 'auto' });
    await channel.consume('jobs', () => {}, { noAck: true });
    raw.deliver(roundTrip(channel, raw));
    expect(raw.settles).toEqual([]);
    expect(ofKind(SpanKind.CONSUMER)).toHaveLength(1);
  });

  it('reports an ack the closed channel refused, without an unhandled error', async () => {
    const raw = new FakeChannel();
    const { reports, onError } = reported();
    const channel = wrap(raw, { ackMode: 'auto', onError });
    await channel.consume('jobs', async () => {
      raw.closed = true;
    });
    await expect(raw.deliver(roundTrip(channel, raw))).resolves.toBeUndefined();
    expect(raw.settles).toEqual([]);
    expect(
      reports.map(({ error, info }) => [
        (error as Error).message,
        info.operation,
        info.operationName,
      ]),
    ).toEqual([['Channel closed', 'settle', 'ack']]);
  });

  it('never acks a delivery of a replaced channel: its tag may name another delivery now', async () => {
    const raw = new FakeChannel();
    const { reports, onError } = reported();
    const channel = wrap(raw, { ackMode: 'auto', onError });
    const releases: Array<() => void> = [];
    await channel.consume('jobs', () => new Promise<void>((resolve) => releases.push(resolve)));
    const old = roundTrip(channel, raw, 'old');
    const pending = raw.deliver(old);
    // A recovering wrapper now speaks for a new channel: delivery tags start again at 1.
    const fresh = roundTrip(channel, raw, 'new');
    const next = raw.deliver({ ...fresh, fields: { ...fresh.fields, deliveryTag: 1 } });
    releases[0]?.();
    await pending;
    expect(raw.settles).toEqual([]);
    expect(
      reports.map(({ error, info }) => [(error as Error).name, info.operation, info.operationName]),
    ).toEqual([['ChannelClosedError', 'settle', 'ack']]);
    releases[1]?.();
    await next;
    expect(raw.settles).toEqual([{ op: 'ack', tag: 1, allUpTo: undefined }]);
  });

  it('warns once per kind through diag when there is no onError, and survives a throwing onError', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const raw = new FakeChannel();
    const quiet = wrap(raw, { ackMode: 'auto', failureMode: 'dead-letter' });
    await quiet.consume('jobs', () => {
      throw new Error('fails');
    });
    raw.deliver(roundTrip(quiet, raw));
    raw.deliver(roundTrip(quiet, raw));
    // Two failures, one warning (this file's first handler failure without onError).
    const handlerWarnings = warn.mock.calls.filter(([text]) =>
      String(text).startsWith('@baton/amqplib: process failed'),
    );
    expect(handlerWarnings).toHaveLength(1);
    expect(raw.settles.map((s) => s.op)).toEqual(['reject', 'reject']);

    const other = new FakeChannel();
    const loud = wrap(other, {
      ackMode: 'auto',
      onError: () => {
        throw new Error('reporter broke');
      },
    });
    await loud.consume('jobs', () => {
      throw new Error('fails');
    });
    expect(other.deliver(roundTrip(loud, other))).toBeUndefined();
    expect(other.settles.map((s) => s.op)).toEqual(['reject']);
  });
});
