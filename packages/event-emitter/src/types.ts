import type { BatonOptions, ErrorInfo } from '@baton/core';

/** Event names to payload types, e.g. `{ 'user.registered': { id: string } }`. */
export type EventMap = Record<string, unknown>;

/** What a handler is told about one delivery besides the payload. */
export interface DeliveryInfo {
  /** The event name. */
  readonly event: string;
  /** The subscriber's consumer group (`messaging.consumer.group.name`), if it gave one. */
  readonly consumerGroup: string | undefined;
  /** @deprecated The same as {@link DeliveryInfo.consumerGroup}; goes away in the next release. */
  readonly subscriber: string | undefined;
  /** When the event was published, ms since the epoch. */
  readonly publishedAt: number;
}

/** A subscriber. It may be async; a throw or rejection is recorded and reported, never rethrown. */
export type EventHandler<P> = (payload: P, info: DeliveryInfo) => void | Promise<void>;

/** Options for {@link EventBus.subscribe}. */
export interface SubscribeOptions {
  /** Names the subscriber (a service): becomes `messaging.consumer.group.name`. */
  consumerGroup?: string;
  /** @deprecated Use {@link SubscribeOptions.consumerGroup}; goes away in the next release. */
  name?: string;
}

/** What {@link EventBusOptions.onError} is told when a handler fails. */
export interface EventBusErrorInfo extends ErrorInfo {
  /** Always `'process'`: a handler threw or its promise rejected. */
  readonly operation: 'process';
  /** The event name. */
  readonly destination: string;
  /** The payload the handler got (the publisher's own object). */
  readonly message: unknown;
  /** The event name (as in {@link DeliveryInfo}). */
  readonly event: string;
  /** The failing subscriber's consumer group, if it gave one. */
  readonly consumerGroup: string | undefined;
  /** When the event was published, ms since the epoch. */
  readonly publishedAt: number;
}

/** @deprecated What `onHandlerError` listeners are told; use `onError`. */
export interface HandlerErrorInfo extends DeliveryInfo {
  readonly error: unknown;
}

/** Options for {@link createEventBus}: Baton's options plus the bus's own. */
export interface EventBusOptions extends BatonOptions {
  /**
   * Told about every handler that throws or rejects, after its process span ended with the
   * error. The delivery is not retried. An `onError` that throws is ignored. A view made
   * with `withOptions` uses the bus's `onError` unless it is given its own.
   * @defaultValue one `diag` warning per kind of failure
   */
  onError?(error: unknown, info: EventBusErrorInfo): void;
  /** @deprecated Use {@link EventBusOptions.onError}; goes away in the next release. */
  onHandlerError?: (info: HandlerErrorInfo) => void;
}
