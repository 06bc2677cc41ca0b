import { expectTraceTree } from '@baton/testing';
import { SpanKind } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { runInProcessDemo } from '../src/in-process.js';
import { startOtlpReceiver } from '../src/otlp-receiver.js';

const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
afterEach(() => {
  if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
});

describe('the demo with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  it('exports the same traces over OTLP/HTTP, which decode back into the same tree', async () => {
    const receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.endpoint;
    try {
      const run = await runInProcessDemo({
        requests: [
          { title: 'otlp', body: JSON.stringify({ name: 'Ada', email: 'ada@example.com' }) },
        ],
      });
      const traceId = run.outcomes[0]?.traceId;
      const exported = receiver.spans().filter((s) => s.spanContext().traceId === traceId);
      expect(exported.map((s) => s.name).sort()).toEqual(
        run.spans
          .filter((s) => s.spanContext().traceId === traceId)
          .map((s) => s.name)
          .sort(),
      );
      expectTraceTree(exported, {
        name: 'POST /users',
        kind: SpanKind.SERVER,
        children: [
          {
            name: 'send user.registered',
            kind: SpanKind.PRODUCER,
            children: [{ name: 'process user.registered', kind: SpanKind.CONSUMER }],
          },
        ],
      });
      expect(new Set(exported.map((s) => s.resource?.attributes['service.name']))).toEqual(
        new Set(['user_service', 'notification_service', 'audit_service']),
      );
    } finally {
      await receiver.close();
    }
  });
});
