import { withCorrelationId } from '@baton/core';
import { createTestTelemetry, type TestTelemetry } from '@baton/testing';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, vi } from 'vitest';
import { type AmqplibOptions, type AmqpMessage, traceChannel } from '../src/index.js';
import type { FakeChannel } from './fake-channel.js';

/**
 * Fresh in-memory telemetry per test, and helpers to wrap fake channels with it. Call once
 * at the top of a test file.
 */
export interface TracedChannels {
  telemetry(): TestTelemetry;
  wrap(channel: FakeChannel, extra?: AmqplibOptions): FakeChannel;
  ofKind(kind: SpanKind): ReadableSpan[];
  /** Settle events on the process spans. */
  eventsOf(op: string): TimedEvent[];
  /** Publishes through the traced channel and returns the message amqplib would deliver. */
  roundTrip(channel: FakeChannel, raw: FakeChannel, body?: string): AmqpMessage;
}

export function useTracedChannels(): TracedChannels {
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
  const ofKind = (kind: SpanKind) => telemetry.spans().filter((s) => s.kind === kind);
  return {
    telemetry: () => telemetry,
    wrap,
    ofKind,
    eventsOf: (op: string) =>
      ofKind(SpanKind.CONSUMER).flatMap((s) => s.events.filter((e) => e.name === op)),
    roundTrip(channel, raw: FakeChannel, body = 'x') {
      withCorrelationId('corr-7', () => channel.sendToQueue('jobs', Buffer.from(body)));
      return raw.message(raw.published.at(-1));
    },
  };
}
