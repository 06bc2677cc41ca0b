import { diag, SpanKind } from '@opentelemetry/api';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestTelemetry, waitFor } from '../../testing/src/index.js';
import {
  getCorrelationId,
  MessagingTelemetry,
  resetWarnings,
  startLagMonitor,
  withCorrelationId,
} from '../src/index.js';

afterEach(() => {
  vi.restoreAllMocks();
  resetWarnings();
});

describe('guarded paths', () => {
  it('delivers and keeps results when the exporter throws', async () => {
    const exporter: SpanExporter = {
      export: () => {
        throw new Error('exporter down');
      },
      shutdown: async () => {},
    };
    const telemetry = createTestTelemetry({
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1 })],
    });
    const baton = new MessagingTelemetry(
      { name: 't', version: '0' },
      { tracerProvider: telemetry.tracerProvider },
    );
    for (let i = 0; i < 50; i++) {
      const headers = baton.publish({ system: 's', destination: 'd' }, (h) => h);
      expect(await baton.process({ system: 's', destination: 'd', headers }, async () => i)).toBe(
        i,
      );
    }
    await telemetry.tracerProvider.forceFlush().catch(() => undefined);
    expect(telemetry.spans().filter((s) => s.kind === SpanKind.CONSUMER)).toHaveLength(50);
    await telemetry.shutdown().catch(() => undefined);
  });

  it('runs the handler once, in the message context, when the tracer itself throws', () => {
    vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const brokenProvider = {
      getTracer: () => ({
        startSpan: () => {
          throw new Error('tracer bug');
        },
        startActiveSpan: () => {
          throw new Error('tracer bug');
        },
      }),
    };
    const baton = new MessagingTelemetry(
      { name: 't', version: '0' },
      { tracerProvider: brokenProvider as never },
    );
    let calls = 0;
    const headers = withCorrelationId('c-1', () =>
      baton.publish({ system: 's', destination: 'd' }, (h) => h),
    );
    const seen = baton.process({ system: 's', destination: 'd', headers }, () => {
      calls++;
      return getCorrelationId();
    });
    expect(calls).toBe(1);
    expect(seen).toBe('c-1');
  });

  it('falls back to defaults for invalid options with a warning', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const baton = new MessagingTelemetry(
      { name: '@baton/x', version: '0' },
      {
        consumerSpanRelation: 'sideways' as never,
        metrics: 'yes' as never,
        publishHook: 'not a function' as never,
      },
    );
    expect(baton.options.consumerSpanRelation).toBe('parent');
    expect(baton.options.metrics).toBe(true);
    expect(baton.options.publishHook).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/^@baton\/x: ignoring invalid option consumerSpanRelation/),
    );
  });
});

describe('startLagMonitor', () => {
  it('reports the latest read as baton.consumer.lag and pending gauges, and survives failing reads', async () => {
    vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const telemetry = createTestTelemetry();
    const baton = new MessagingTelemetry(
      { name: 't', version: '0' },
      { meterProvider: telemetry.meterProvider },
    );
    let reads = 0;
    const monitor = startLagMonitor(baton, {
      system: 'redis',
      intervalMs: 60_000,
      read: () => {
        reads++;
        if (reads === 2) throw new Error('broker busy');
        return [
          { destination: 'orders', consumerGroup: 'g', value: 5 * reads },
          { kind: 'pending', destination: 'orders', consumerGroup: 'g', value: 2 },
        ];
      },
    });
    await waitFor(() => reads >= 1);
    await monitor.refresh(); // fails: keeps the previous samples
    let points = await telemetry.metricPoints();
    expect(points.find((p) => p.name === 'baton.consumer.lag')?.value).toBe(5);
    expect(points.find((p) => p.name === 'baton.consumer.pending')?.value).toBe(2);
    await monitor.refresh();
    points = await telemetry.metricPoints();
    expect(points.find((p) => p.name === 'baton.consumer.lag')?.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.destination.name': 'orders',
      'messaging.consumer.group.name': 'g',
    });
    expect(points.find((p) => p.name === 'baton.consumer.lag')?.value).toBe(15);
    monitor.stop();
    await monitor.refresh();
    expect(reads).toBe(3); // stopped: no more broker reads
    await telemetry.shutdown();
  });
});
