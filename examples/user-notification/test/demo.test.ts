import { isValidCorrelationId } from '@baton/core';
import { expectTraceTree } from '@baton/testing';
import { SpanKind } from '@opentelemetry/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DemoRun, runInProcessDemo } from '../src/in-process.js';
import type { DemoRequest } from '../src/requests.js';

const CALLER_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const requests: DemoRequest[] = [
  {
    title: 'plain',
    body: JSON.stringify({ name: 'Ada', email: 'ada@example.com' }),
  },
  {
    title: 'caller context',
    body: JSON.stringify({ name: 'Alan', email: 'alan@example.com' }),
    headers: {
      traceparent: `00-${CALLER_TRACE_ID}-b7ad6b7169203331-01`,
      'x-correlation-id': 'checkout-42',
      baggage: 'tenant_id=evil',
      'x-api-key': 'demo-key-acme',
    },
  },
  {
    title: 'retried email',
    body: JSON.stringify({ name: 'Grace', email: 'flaky.grace@example.com' }),
  },
  {
    title: 'malformed context',
    body: JSON.stringify({ name: 'Edsger', email: 'edsger@example.com' }),
    headers: { traceparent: '00-zzzz-01', 'x-correlation-id': `${'x'.repeat(200)}` },
  },
  { title: 'bad json', body: '{"name":' },
  { title: 'invalid fields', body: JSON.stringify({ name: 'Bob' }) },
];

let run: DemoRun;
const outcome = (title: string) => {
  const found = run.outcomes.find((o) => o.title === title);
  if (!found) throw new Error(`no outcome ${title}`);
  return found;
};

beforeAll(async () => {
  run = await runInProcessDemo({ requests, otlp: false });
}, 30_000);

describe('the user/notification demo on the in-process bus', () => {
  it('answers 201 for valid registrations and 400 for bad input', () => {
    expect(run.outcomes.map((o) => o.status)).toEqual([201, 201, 201, 201, 400, 400]);
    expect(outcome('bad json').responseBody).toEqual({ error: 'request body is not valid JSON' });
    expect(String((outcome('invalid fields').responseBody as { error: string }).error)).toMatch(
      /email/,
    );
  });

  it('puts all three services in one trace: HTTP server -> send -> process -> send -> process', () => {
    for (const title of ['plain', 'caller context', 'retried email', 'malformed context']) {
      const { traceId } = outcome(title);
      const spans = run.spans.filter((s) => s.spanContext().traceId === traceId);
      const services = new Set(spans.map((s) => s.resource?.attributes['service.name']));
      expect(services).toEqual(new Set(['user_service', 'notification_service', 'audit_service']));
      expectTraceTree(spans, {
        name: 'POST /users',
        kind: SpanKind.SERVER,
        children: [
          {
            name: 'send user.registered',
            kind: SpanKind.PRODUCER,
            children: [
              {
                name: 'process user.registered',
                kind: SpanKind.CONSUMER,
                children: [
                  {
                    name: 'send notification.sent',
                    kind: SpanKind.PRODUCER,
                    children: [{ name: 'process notification.sent', kind: SpanKind.CONSUMER }],
                  },
                ],
              },
            ],
          },
        ],
      });
    }
  });

  it('continues the caller trace and correlation id when they are valid', () => {
    const caller = outcome('caller context');
    expect(caller.traceId).toBe(CALLER_TRACE_ID);
    expect(caller.correlationId).toBe('checkout-42');
  });

  it('puts the trace id and the correlation id on every log line of a request, in all services', () => {
    for (const title of ['plain', 'caller context', 'retried email', 'malformed context']) {
      const { traceId, correlationId, userId } = outcome(title);
      const lines = run.logs.filter((line) => line.user_id === userId);
      expect(new Set(lines.map((l) => l.name))).toEqual(
        new Set(['user_service', 'notification_service', 'audit_service']),
      );
      for (const line of lines) {
        expect(line.trace_id).toBe(traceId);
        expect(line.correlation_id).toBe(correlationId);
      }
    }
    // The caller's own baggage (tenant_id=evil) is dropped at the edge; the tenant its API
    // key names reaches every service's logs.
    const tenant = run.logs.filter((l) => l.trace_id === CALLER_TRACE_ID);
    expect(new Set(tenant.map((l) => l.name)).size).toBe(3);
    expect(tenant.map((l) => l.tenant_id)).toEqual(tenant.map(() => 'acme'));
    expect(run.logs.some((l) => l.tenant_id === 'evil')).toBe(false);
  });

  it('returns the logged correlation id in the x-correlation-id response header', () => {
    const { correlationId, traceId } = outcome('plain');
    const logged = run.logs.find((l) => l.trace_id === traceId && l.name === 'audit_service');
    expect(logged?.correlation_id).toBe(correlationId);
  });

  it('replaces a malformed traceparent and an unsafe correlation id without failing the request', () => {
    const replaced = outcome('malformed context');
    expect(replaced.status).toBe(201);
    expect(replaced.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(isValidCorrelationId(replaced.correlationId)).toBe(true);
    expect(replaced.correlationId).not.toContain('xxxx');
    expect(run.logs.some((l) => String(l.correlation_id ?? '').includes('xxxx'))).toBe(false);
  });

  it('retries the failed email inside the same trace', () => {
    const { traceId } = outcome('retried email');
    const smtp = run.spans.filter(
      (s) => s.spanContext().traceId === traceId && s.name === 'smtp send',
    );
    expect(smtp.map((s) => s.status.code)).toEqual([2, 0]);
  });

  it('records sent and consumed messages and time in queue per destination', () => {
    const count = (name: string, destination: string) =>
      run.metricPoints
        .filter(
          (p) => p.name === name && p.attributes['messaging.destination.name'] === destination,
        )
        .reduce((total, p) => total + (p.value ?? p.histogram?.count ?? 0), 0);
    for (const destination of ['user.registered', 'notification.sent']) {
      expect(count('messaging.client.sent.messages', destination)).toBe(4);
      expect(count('messaging.client.consumed.messages', destination)).toBe(4);
      expect(count('baton.consumer.time_in_queue', destination)).toBe(4);
    }
  });
});
