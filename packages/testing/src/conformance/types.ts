import type { BatonOptions } from '@baton/core';
import type { TestTelemetry } from '../telemetry.js';

/** What one delivery looked like from inside the handler. */
export interface Delivery {
  body: string;
  traceId: string | undefined;
  spanId: string | undefined;
  correlationId: string | undefined;
  /** The baggage entries the handler saw. */
  baggage: Record<string, string>;
  /** `traceparent` that an onward publish from the handler would carry. */
  onwardTraceparent: string | undefined;
}

/** One adapter, wired for the conformance suite against a fresh, unique destination. */
export interface ConformanceHarness {
  /** Publishes `body` through the Baton-wrapped producer, in the caller's context. */
  publish(body: string): Promise<void>;
  /** Publishes `body` with exactly these headers, bypassing Baton (garbage-header tests). */
  publishRaw(body: string, headers: Record<string, string>): Promise<void>;
  /**
   * Publishes `body` bypassing Baton with each header repeated as the bus repeats a
   * header (an array value, a repeated field), in this order. Optional: without it the
   * repeated-header case is skipped for the adapter.
   */
  publishRepeated?(body: string, headers: Record<string, readonly string[]>): Promise<void>;
  /**
   * Starts the Baton-wrapped consumer. `handler` runs once per delivery inside Baton's
   * context for that message (in a batch mode, inside `runInMessageContext`); when it
   * throws, the adapter applies its failure semantics.
   */
  startConsumer(handler: (body: string) => void | Promise<void>): Promise<void>;
  /** Stops consumer and producer and removes what the harness created. */
  close(): Promise<void>;
}

/** Options for {@link runConformanceSuite}. */
export interface ConformanceOptions {
  /** Names the describe block, e.g. `'@baton/ioredis (eachBatch)'`. */
  name: string;
  /** Creates a harness whose adapter uses exactly these Baton options. */
  createHarness(options: BatonOptions): Promise<ConformanceHarness>;
  /**
   * What a handler failure does on this bus: `'redeliver'` (the broker delivers the message
   * again) or `'report'` (no redelivery; the failure is recorded and reported).
   */
  onHandlerError: 'redeliver' | 'report';
  /**
   * `'message'`: one process span per message (the default). `'batch'`: one process span
   * per batch, linking each message's creation context, and the handler runs in each
   * message's own context.
   */
  delivery?: 'message' | 'batch';
  /** Harness members beyond the required ones that this adapter's harness implements. */
  capabilities?: { publishRepeated?: boolean };
  /** Messages in the "nothing lost" test. @defaultValue 200 */
  messageCount?: number;
  /** How long to wait for deliveries. @defaultValue 20_000 */
  timeoutMs?: number;
}

/** What a case gets to work with. */
export interface CaseContext {
  readonly options: ConformanceOptions;
  readonly telemetry: TestTelemetry;
  readonly deliveries: Delivery[];
  readonly timeoutMs: number;
  /** Starts a harness with the test providers plus `extra`, and its consumer. */
  start(
    extra?: BatonOptions,
    handler?: (body: string) => void | Promise<void>,
  ): Promise<ConformanceHarness>;
  /** Deliveries of `body` so far. */
  delivered(body: string): Delivery[];
  /** Waits until `body` was delivered `times` times. */
  waitDelivered(body: string, times?: number): Promise<void>;
  /** The stability mode and consumer span relation the contract check applies. */
  contract: { stability: 'old' | 'stable' | 'dup'; consumerSpanRelation: 'parent' | 'link' };
}

/** One conformance case: a promise of Baton's telemetry contract. */
export interface ConformanceCase {
  name: string;
  /** Skips the case for adapters without this harness capability. */
  needs?: 'publishRepeated';
  /** Runs without an OpenTelemetry SDK and without a global context manager. */
  noSdk?: boolean;
  run(context: CaseContext): Promise<void>;
}
