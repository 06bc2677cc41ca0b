import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricPoint, SpanLike } from '@baton/testing';
import type { Attributes, HrTime, SpanKind } from '@opentelemetry/api';

// A minimal OTLP/HTTP JSON receiver: the multi-process demo's services export their spans
// and metrics here, as they would to a collector. Only what the report needs is decoded.

type OtlpValue = {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
};
type OtlpAttribute = { key: string; value: OtlpValue };

function attributes(list: OtlpAttribute[] | undefined): Attributes {
  const result: Attributes = {};
  for (const { key, value } of list ?? []) {
    result[key] =
      value.stringValue ??
      (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
      value.doubleValue ??
      value.boolValue;
  }
  return result;
}

function hrTime(nanos: string | number): HrTime {
  const n = BigInt(nanos);
  return [Number(n / 1_000_000_000n), Number(n % 1_000_000_000n)];
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpAttribute[];
  status?: { code?: number };
}

function decodeSpans(body: {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }>;
  }>;
}): SpanLike[] {
  const spans: SpanLike[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = { attributes: attributes(rs.resource?.attributes) };
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const start = BigInt(s.startTimeUnixNano);
        const end = BigInt(s.endTimeUnixNano);
        spans.push({
          name: s.name,
          kind: Math.max(0, s.kind - 1) as SpanKind, // OTLP kinds start at 1 (internal)
          spanContext: () => ({ traceId: s.traceId, spanId: s.spanId }),
          parentSpanContext: s.parentSpanId ? { spanId: s.parentSpanId } : undefined,
          startTime: hrTime(s.startTimeUnixNano),
          duration: hrTime((end - start).toString()),
          status: { code: s.status?.code ?? 0 },
          attributes: attributes(s.attributes),
          resource,
          instrumentationScope: { name: ss.scope?.name ?? '' },
        });
      }
    }
  }
  return spans;
}

type OtlpNumberPoint = { attributes?: OtlpAttribute[]; asInt?: number | string; asDouble?: number };
type OtlpHistogramPoint = {
  attributes?: OtlpAttribute[];
  count: number | string;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: Array<number | string>;
  explicitBounds?: number[];
};
type OtlpMetric = {
  name: string;
  unit?: string;
  sum?: { dataPoints?: OtlpNumberPoint[] };
  gauge?: { dataPoints?: OtlpNumberPoint[] };
  histogram?: { dataPoints?: OtlpHistogramPoint[] };
};

function decodeMetrics(body: {
  resourceMetrics?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeMetrics?: Array<{ metrics?: OtlpMetric[] }>;
  }>;
}): Array<{ service: string; point: MetricPoint }> {
  const result: Array<{ service: string; point: MetricPoint }> = [];
  for (const rm of body.resourceMetrics ?? []) {
    const service = String(attributes(rm.resource?.attributes)['service.name'] ?? '');
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const base = { name: m.name, unit: m.unit ?? '' };
        for (const p of [...(m.sum?.dataPoints ?? []), ...(m.gauge?.dataPoints ?? [])]) {
          result.push({
            service,
            point: {
              ...base,
              attributes: attributes(p.attributes),
              value: Number(p.asInt ?? p.asDouble ?? 0),
            },
          });
        }
        for (const p of m.histogram?.dataPoints ?? []) {
          result.push({
            service,
            point: {
              ...base,
              attributes: attributes(p.attributes),
              histogram: {
                count: Number(p.count),
                sum: p.sum ?? 0,
                ...(p.min !== undefined && { min: p.min }),
                ...(p.max !== undefined && { max: p.max }),
                buckets: {
                  boundaries: p.explicitBounds ?? [],
                  counts: (p.bucketCounts ?? []).map(Number),
                },
              },
            },
          });
        }
      }
    }
  }
  return result;
}

/** What the receiver has collected so far. */
export interface OtlpReceiver {
  readonly endpoint: string;
  spans(): SpanLike[];
  /** Latest cumulative points of every service (each export replaces that service's last). */
  metricPoints(): MetricPoint[];
  /** The same, per service (`service.name`), as the service map takes them. */
  serviceMetrics(): Array<{ service: string; points: MetricPoint[] }>;
  close(): Promise<void>;
}

/**
 * Starts the receiver on loopback. With `forwardTo` (an OTLP/HTTP endpoint such as Jaeger's),
 * every trace payload is also forwarded there as received; a failed forward is reported to
 * `onForwardError` with its reason, and the receiver goes on.
 */
export async function startOtlpReceiver(
  forwardTo?: string,
  onForwardError: (reason: string) => void = () => {},
): Promise<OtlpReceiver> {
  const spans: SpanLike[] = [];
  const metricsByService = new Map<string, MetricPoint[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        const body = JSON.parse(raw);
        if (req.url === '/v1/traces') {
          spans.push(...decodeSpans(body));
          if (forwardTo) {
            fetch(`${forwardTo.replace(/\/$/, '')}/v1/traces`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: raw,
            }).then(
              (response) => {
                if (!response.ok) onForwardError(`HTTP ${response.status}`);
              },
              (error: Error) => onForwardError(String((error.cause as Error)?.message ?? error)),
            );
          }
        } else if (req.url === '/v1/metrics') {
          const byService = new Map<string, MetricPoint[]>();
          for (const { service, point } of decodeMetrics(body)) {
            byService.set(service, [...(byService.get(service) ?? []), point]);
          }
          for (const [service, points] of byService) metricsByService.set(service, points);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans: () => spans.slice(),
    metricPoints: () => [...metricsByService.values()].flat(),
    serviceMetrics: () => [...metricsByService].map(([service, points]) => ({ service, points })),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
