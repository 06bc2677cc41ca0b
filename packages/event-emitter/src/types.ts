import type { BatonOptions } from '@baton/core';

/** Event names to payload types, e.g. `{ 'user.registered': { id: string } }`. */
export type EventMap = Record<string, unknown>;

/** What a handler is told about one delivery besides the payload. */
export interface DeliveryInfo {
  /** The event name. */
  readonly event: string;
  /** The subscriber's name (`messaging.consumer.group.name`), if it gave one. */
  readonly subscriber: string | undefined;
  /** When the event was published, ms since the epoch. */
  readonly publishedAt: number;
}

/** A subscriber. It may be async; a throw or rejection is recorded and reported, never rethrown. */
export type EventHandler<P> = (payload: P, info: DeliveryInfo) => void | Promise<void>;

/** Options for {@link EventBus.subscribe}. */
export interface SubscribeOptions {
  /** Names the subscriber (a service): becomes `messaging.consumer.group.name`. */
  name?: string;
}

/** What the error channel is told when a handler fails. */
export interface HandlerErrorInfo extends DeliveryInfo {
  readonly error: unknown;
}

/** Options for {@link createEventBus}: Baton's options plus the bus's own. */
export interface EventBusOptions extends BatonOptions {
  /**
   * Called when a handler throws or rejects. Without one, failures go to `diag.error`.
   * A listener that throws is ignored.
   */
  onHandlerError?: (info: HandlerErrorInfo) => void;
}
