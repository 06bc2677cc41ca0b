import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createTestTelemetry } from '../../testing/src/index.js';
import {
  applySemconvStability,
  MessagingTelemetry,
  semconvStabilityFromEnv,
} from '../src/index.js';

describe('semantic convention stability opt-in', () => {
  it('reads OTEL_SEMCONV_STABILITY_OPT_IN', () => {
    expect(semconvStabilityFromEnv(undefined)).toBe('old');
    expect(semconvStabilityFromEnv('http')).toBe('old');
    expect(semconvStabilityFromEnv('http, messaging')).toBe('stable');
    expect(semconvStabilityFromEnv('messaging/dup,http/dup')).toBe('dup');
  });

  it('renames messaging.system and the kafka / rabbitmq namespaces', () => {
    const old = {
      'messaging.system': 'kafka',
      'messaging.kafka.offset': 7,
      'messaging.rabbitmq.destination.routing_key': 'rk',
      'messaging.destination.name': 't',
    };
    expect(applySemconvStability(old, 'old')).toBe(old);
    expect(applySemconvStability(old, 'stable')).toEqual({
      'messaging.system.name': 'kafka',
      'kafka.offset': 7,
      'rabbitmq.destination.routing_key': 'rk',
      'messaging.destination.name': 't',
    });
    expect(applySemconvStability(old, 'dup')).toMatchObject({
      ...old,
      'messaging.system.name': 'kafka',
      'kafka.offset': 7,
    });
  });

  it('emits the new names on spans and metrics in stable mode', async () => {
    const telemetry = createTestTelemetry();
    const baton = new MessagingTelemetry(
      { name: 't', version: '0' },
      {
        ...telemetry.providers,
        semconvStability: 'stable',
      },
    );
    baton.publish(
      {
        system: 'kafka',
        destination: 'orders',
        attributes: { 'messaging.kafka.message.key': 'k' },
      },
      () => undefined,
    );
    const [span] = telemetry.spans().filter((s) => s.kind === SpanKind.PRODUCER);
    expect(span?.attributes['messaging.system.name']).toBe('kafka');
    expect(span?.attributes['messaging.system']).toBeUndefined();
    expect(span?.attributes['kafka.message.key']).toBe('k');
    const points = await telemetry.metricPoints();
    const sent = points.find((p) => p.name === 'messaging.client.sent.messages');
    expect(sent?.attributes['messaging.system.name']).toBe('kafka');
    await telemetry.shutdown();
  });
});
