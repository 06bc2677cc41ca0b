import { createEventBus } from '@baton/event-emitter';
import { createLogger } from '@baton/pino';
import {
  CollectingMetricReader,
  createLogSink,
  type LogLine,
  type MetricPoint,
  metricPointsFrom,
  type SpanLike,
  waitFor,
} from '@baton/testing';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Payload } from './bus.js';
import { createMemoryBus } from './buses/memory.js';
import { collectorListens, dropOnFailure, once } from './otlp-export.js';
import type { EndpointReport, RequestOutcome } from './report.js';
import { type DemoRequest, demoRequests, sendRequest } from './requests.js';
import { startAuditService } from './services/audit-service.js';
import { startNotificationService } from './services/notification-service.js';
import { startUserService } from './services/user-service.js';
import { createServiceTelemetry, registerContextManager } from './telemetry.js';

/** Everything a demo run produced, for the report or for a test. */
export interface DemoRun {
  outcomes: RequestOutcome[];
  spans: SpanLike[];
  logs: LogLine[];
  metricPoints: MetricPoint[];
  /** The same metric points, per service: what the service map joins. */
  serviceMetrics: Array<{ service: string; points: MetricPoint[] }>;
  /** Multi-process runs: each service's endpoints and what they answered at the end. */
  endpoints?: EndpointReport[];
}

/** Options for {@link runInProcessDemo}. */
export interface InProcessDemoOptions {
  requests?: DemoRequest[];
  /** Export spans over OTLP too (to Jaeger, Tempo...). @defaultValue when OTEL_EXPORTER_OTLP_ENDPOINT is set */
  otlp?: boolean;
  /** Chance of a random SMTP failure per attempt. @defaultValue 0 */
  failureRate?: number;
  /** Where the (single) warning goes when spans cannot be exported. @defaultValue console.warn */
  warn?: (message: string) => void;
}

/**
 * Runs the three services in this process over the in-process bus (no infrastructure),
 * drives the requests through real HTTP, and returns what the telemetry recorded.
 */
export async function runInProcessDemo(options: InProcessDemoOptions = {}): Promise<DemoRun> {
  registerContextManager();
  const spans = new InMemorySpanExporter();
  const logSink = createLogSink();
  const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4318';
  const warn = once(options.warn ?? ((message) => console.warn(message)));
  const otlp =
    (options.otlp ?? Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT)) &&
    (await collectorListens(endpoint, warn));
  const hub = createEventBus<Record<string, Payload>>();

  const setUp = (service: string) => {
    const reader = new CollectingMetricReader();
    const spanProcessors: SpanProcessor[] = [new SimpleSpanProcessor(spans)];
    if (otlp) {
      const exporter = dropOnFailure(new OTLPTraceExporter(), endpoint, warn);
      spanProcessors.push(new BatchSpanProcessor(exporter));
    }
    const telemetry = createServiceTelemetry(service, { spanProcessors, metricReaders: [reader] });
    const { tracerProvider, meterProvider, tracer } = telemetry;
    const bus = createMemoryBus(hub.withOptions({ tracerProvider, meterProvider }));
    const logger = createLogger(
      { name: service, base: undefined, baton: { baggageKeys: ['tenant_id'] } },
      logSink.stream,
    );
    return { telemetry, reader, bus, logger, tracer };
  };
  const user = setUp('user_service');
  const notification = setUp('notification_service');
  const audit = setUp('audit_service');

  const audited = new Set<string>();
  await startAuditService({ ...audit, onRecord: (record) => audited.add(record.userId) });
  await startNotificationService({ ...notification, failureRate: options.failureRate ?? 0 });
  const { url, server } = await startUserService(user);

  const outcomes: RequestOutcome[] = [];
  try {
    for (const request of options.requests ?? demoRequests()) {
      const outcome = await sendRequest(url, request);
      outcomes.push(outcome);
      const { userId } = outcome;
      if (userId !== undefined) {
        await waitFor(() => audited.has(userId), {
          timeoutMs: 10_000,
          message: `the audit record of ${userId}`,
        });
      }
    }
    await hub.idle();
  } finally {
    server.close();
  }
  const finished = spans.getFinishedSpans(); // before shutdown: it clears the exporter
  const serviceMetrics: DemoRun['serviceMetrics'] = [];
  for (const service of [user, notification, audit]) {
    const points = metricPointsFrom((await service.reader.collect()).resourceMetrics);
    serviceMetrics.push({ service: service.telemetry.service, points });
    await service.telemetry.shutdown();
  }
  const metricPoints = serviceMetrics.flatMap((s) => s.points);
  return { outcomes, spans: finished, logs: logSink.lines(), metricPoints, serviceMetrics };
}
