import { runMultiProcessDemo } from '@baton/example-user-notification/multi-process';
import { expectTraceTree } from '@baton/testing';
import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { brokerOrSkip } from './brokers.js';

// The demo's three services as three processes over a real broker, spans collected over
// OTLP by the runner: the async chain must still be one trace with correlated logs.
const buses = [
  ['redis', await brokerOrSkip('redis')],
  ['rabbitmq', await brokerOrSkip('rabbitmq')],
] as const;

describe.each(buses.filter(([, url]) => url !== undefined))(
  'the demo over %s, as three processes',
  (bus) => {
    it('puts each registration in one trace across the three services, with correlated logs', async () => {
      const run = await runMultiProcessDemo(bus);
      expect(run.outcomes.map((o) => o.status)).toEqual([201, 201, 201, 201, 400, 400]);
      for (const outcome of run.outcomes.filter((o) => o.userId !== undefined)) {
        const spans = run.spans.filter((s) => s.spanContext().traceId === outcome.traceId);
        expect(new Set(spans.map((s) => s.resource?.attributes['service.name']))).toEqual(
          new Set(['user_service', 'notification_service', 'audit_service']),
        );
        expectTraceTree(spans, {
          name: 'POST /users',
          kind: SpanKind.SERVER,
          children: [
            {
              name: /^send /,
              kind: SpanKind.PRODUCER,
              children: [
                {
                  name: /^process /,
                  kind: SpanKind.CONSUMER,
                  children: [
                    { name: /^send /, children: [{ name: /^process /, kind: SpanKind.CONSUMER }] },
                  ],
                },
              ],
            },
          ],
        });
        const lines = run.logs.filter((l) => l.user_id === outcome.userId);
        expect(new Set(lines.map((l) => l.name))).toEqual(
          new Set(['user_service', 'notification_service', 'audit_service']),
        );
        for (const line of lines) {
          expect(line.trace_id).toBe(outcome.traceId);
          expect(line.correlation_id).toBe(outcome.correlationId);
        }
      }
      const sent = run.metricPoints.filter((p) => p.name === 'messaging.client.sent.messages');
      expect(sent.reduce((total, p) => total + (p.value ?? 0), 0)).toBe(8);
    }, 60_000);
  },
);
