import type { ConsumerHealth } from '@baton/core';

/** A message payload in the demo: plain JSON. */
export type Payload = Record<string, unknown>;

/**
 * The one interface the demo's services use to talk over a bus. Each implementation wraps
 * its client with the matching Baton adapter, so `publish` carries the active context and
 * each `subscribe` handler runs inside the producer's trace. A handler that throws leaves
 * the message to the bus's redelivery semantics.
 */
export interface DemoBus {
  /** 'memory' | 'redis' | 'rabbitmq' | 'kafka'. */
  readonly kind: string;
  publish(event: string, payload: Payload): Promise<void>;
  /** `group` names the consuming service (a consumer group / queue per service). */
  subscribe(
    event: string,
    group: string,
    handler: (payload: Payload) => Promise<void>,
  ): Promise<void>;
  /** Stops consuming (waiting for handlers in flight) and closes connections. */
  close(): Promise<void>;
  /** What `/health/ready` reads: the bus connection, and each consumer's health. */
  health(): BusHealth;
}

/** The health of a bus client: its connection, and its consumers (the adapters' `healthOf`). */
export interface BusHealth {
  /** The connection to the broker is up (the producer side can publish). */
  connected: boolean;
  /** Why not, when not connected. */
  connectionError?: string;
  /** One item per consumer: core's `ConsumerHealth`, from the adapter's `healthOf`. */
  consumers: ConsumerHealth[];
  /** What the adapter cannot report, said rather than hidden (e.g. no `healthOf` yet). */
  unchecked?: string[];
}

/** Options every bus factory receives. */
export interface BusFactoryOptions {
  /** A name unique to this demo run, so runs never see each other's messages. */
  namespace: string;
  /** The service using the bus: names its broker connection where the broker shows names. */
  service: string;
}
