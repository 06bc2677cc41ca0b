import { type BatonOptions, getCorrelationId, injectContext } from '@baton/core';
import { propagation, trace } from '@opentelemetry/api';
import { describe, it } from 'vitest';
import { assertContract } from '../contract/check.js';
import { createTestTelemetry, withoutContextManager } from '../telemetry.js';
import { waitFor } from '../wait-for.js';
import { CASES } from './cases.js';
import type {
  CaseContext,
  ConformanceCase,
  ConformanceHarness,
  ConformanceOptions,
  Delivery,
} from './types.js';

function observe(body: string): Delivery {
  const spanContext = trace.getActiveSpan()?.spanContext();
  const baggage: Record<string, string> = {};
  for (const [key, entry] of propagation.getActiveBaggage()?.getAllEntries() ?? []) {
    baggage[key] = entry.value;
  }
  return {
    body,
    traceId: spanContext?.traceId,
    spanId: spanContext?.spanId,
    correlationId: getCorrelationId(),
    baggage,
    onwardTraceparent: injectContext({}).traceparent,
  };
}

/**
 * Runs one conformance case against an adapter, outside of any test framework's `it`:
 * resolves when the adapter keeps the promise, rejects (with the failed expectation or
 * the contract violations) when it does not. Every case ends with the contract check
 * over every span and metric point it produced.
 */
export async function runConformanceCase(
  testCase: ConformanceCase,
  options: ConformanceOptions,
): Promise<void> {
  const run = async () => {
    const telemetry = createTestTelemetry();
    const deliveries: Delivery[] = [];
    const harnesses: ConformanceHarness[] = [];
    const timeoutMs = options.timeoutMs ?? 20_000;
    const delivered = (body: string) => deliveries.filter((d) => d.body === body);
    const c: CaseContext = {
      options,
      telemetry,
      deliveries,
      timeoutMs,
      contract: { stability: 'old', consumerSpanRelation: 'parent' },
      async start(extra: BatonOptions = {}, handler?: (body: string) => void | Promise<void>) {
        const providers: BatonOptions = testCase.noSdk
          ? {}
          : { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider };
        const harness = await options.createHarness({ ...providers, ...extra });
        harnesses.push(harness);
        await harness.startConsumer(async (body) => {
          deliveries.push(observe(body));
          await handler?.(body);
        });
        return harness;
      },
      delivered,
      waitDelivered: async (body, times = 1) => {
        await waitFor(() => delivered(body).length >= times, {
          timeoutMs,
          message: `${times} deliveries of ${body}`,
        });
      },
    };
    try {
      await testCase.run(c);
      if (!testCase.noSdk) {
        assertContract({
          spans: telemetry.spans(),
          points: await telemetry.metricPoints(),
          ...c.contract,
        });
      }
    } finally {
      for (const harness of harnesses) await harness.close();
      await telemetry.shutdown();
    }
  };
  await (testCase.noSdk ? withoutContextManager(run) : run());
}

/**
 * The adapter conformance suite (DESIGN.md, Tests), one vitest `it` per case: linkage and
 * creation links, correlation and baggage round trip, malformed and repeated headers,
 * every valid traceparent continued as a valid version-00 one, hooks called with the
 * native message and isolated when they throw, handler errors keep the client's failure
 * semantics with `error.type` on spans and metrics, nothing lost, metrics recorded,
 * `'link'` mode, the semconv 1.45 names, and the no-SDK path without a context manager.
 * Each case ends with the contract check. Call it inside a vitest file.
 */
export function runConformanceSuite(options: ConformanceOptions): void {
  describe(`${options.name} conformance`, () => {
    for (const testCase of CASES) {
      const supported =
        testCase.needs === undefined || options.capabilities?.[testCase.needs] === true;
      (supported ? it : it.skip)(
        testCase.name,
        { timeout: (options.timeoutMs ?? 20_000) * 3 },
        () => runConformanceCase(testCase, options),
      );
    }
  });
}

export { CASES };
