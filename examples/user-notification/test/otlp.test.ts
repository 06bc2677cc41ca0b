import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectTraceTree, waitFor } from '@baton/testing';
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

const oneRequest = [
  { title: 'otlp', body: JSON.stringify({ name: 'Ada', email: 'ada@example.com' }) },
];

async function closedPort(): Promise<number> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  return port;
}

describe('the demo with OTEL_EXPORTER_OTLP_ENDPOINT set and no usable collector', () => {
  it('warns once and completes when nothing listens at the endpoint', async () => {
    const port = await closedPort();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
    const warnings: string[] = [];

    const run = await runInProcessDemo({ requests: oneRequest, warn: (m) => warnings.push(m) });

    expect(run.outcomes.map((o) => o.status)).toEqual([201]);
    expect(
      run.spans.filter((s) => s.spanContext().traceId === run.outcomes[0]?.traceId),
    ).not.toEqual([]);
    expect(warnings).toEqual([
      `demo: cannot export traces to http://127.0.0.1:${port} (nothing accepts connections there); the demo goes on without exporting them`,
    ]);
  });

  it('warns once and completes when the collector rejects every export', async () => {
    let posts = 0;
    const collector = createServer((req, res) => {
      posts += 1;
      req.resume();
      res.writeHead(400, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
    const warnings: string[] = [];
    try {
      const run = await runInProcessDemo({ requests: oneRequest, warn: (m) => warnings.push(m) });

      expect(run.outcomes.map((o) => o.status)).toEqual([201]);
      expect(posts).toBeGreaterThan(0);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        new RegExp(
          `^demo: cannot export traces to http://127.0.0.1:${port} \\(.+\\); the demo goes on`,
        ),
      );
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});

describe('the multi-process runner forwarding traces to OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('reports a forward that cannot connect, and still collects the spans', async () => {
    const reasons: string[] = [];
    const receiver = await startOtlpReceiver(`http://127.0.0.1:${await closedPort()}`, (reason) =>
      reasons.push(reason),
    );
    try {
      const span = {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        name: 'send user.registered',
        kind: 4,
        startTimeUnixNano: '1000000000',
        endTimeUnixNano: '2000000000',
      };
      const response = await fetch(`${receiver.endpoint}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }),
      });
      expect(response.status).toBe(200);
      expect(receiver.spans().map((s) => s.name)).toEqual(['send user.registered']);
      await waitFor(() => reasons.length > 0, { timeoutMs: 3000, message: 'the forward error' });
      expect(reasons[0]).toMatch(/ECONNREFUSED/);
    } finally {
      await receiver.close();
    }
  });
});
