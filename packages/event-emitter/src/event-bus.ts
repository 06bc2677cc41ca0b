import {
  activeContext,
  type HeaderCarrier,
  type MessageDescription,
  MessagingTelemetry,
} from '@baton/core';
import { diag } from '@opentelemetry/api';
import type {
  DeliveryInfo,
  EventBusOptions,
  EventHandler,
  EventMap,
  HandlerErrorInfo,
  SubscribeOptions,
} from './types.js';

const SCOPE = { name: '@baton/event-emitter', version: '0.1.0' };

/** `messaging.system` of the in-process bus (semconv has no value for in-process buses). */
export const EVENT_EMITTER_SYSTEM = 'in_process';

interface Subscription {
  handler: EventHandler<never>;
  name: string | undefined;
}

/**
 * A typed in-process event bus. Every publish runs in a `send <event>` span; every
 * delivery runs asynchronously in a `process <event>` span whose parent is that send span.
 * The context travels as an object (no serialization); events relayed from another bus
 * with W3C headers are accepted by {@link EventBus.relay}.
 */
export class EventBus<Events extends EventMap> {
  private readonly telemetry: MessagingTelemetry;
  private readonly subscriptions = new Map<string, Subscription[]>();
  private readonly errorListeners = new Set<(info: HandlerErrorInfo) => void>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(options: EventBusOptions = {}) {
    this.telemetry = new MessagingTelemetry(SCOPE, options);
    if (typeof options.onHandlerError === 'function')
      this.errorListeners.add(options.onHandlerError);
  }

  /** Adds a handler for `event`; returns a function that removes it. */
  subscribe<E extends keyof Events & string>(
    event: E,
    handler: EventHandler<Events[E]>,
    options: SubscribeOptions = {},
  ): () => void {
    const subscription: Subscription = {
      handler: handler as EventHandler<never>,
      name: options.name,
    };
    this.subscriptions.set(event, [...(this.subscriptions.get(event) ?? []), subscription]);
    return () => {
      const remaining = (this.subscriptions.get(event) ?? []).filter((s) => s !== subscription);
      if (remaining.length > 0) this.subscriptions.set(event, remaining);
      else this.subscriptions.delete(event);
    };
  }

  /** Listens for handler failures; returns a function that stops listening. */
  onHandlerError(listener: (info: HandlerErrorInfo) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /**
   * Publishes `payload` to every current subscriber of `event`. Returns once the event is
   * queued; handlers run later, each in its own process span. Never throws for a handler.
   */
  publish<E extends keyof Events & string>(event: E, payload: Events[E]): void {
    this.telemetry.publish({ system: EVENT_EMITTER_SYSTEM, destination: event }, () => {
      // Inside the send span: its context is the creation context of every delivery.
      this.dispatch(event, payload, { context: activeContext() }, Date.now());
    });
  }

  /**
   * Delivers an event that arrived from elsewhere carrying W3C headers (`traceparent`,
   * `tracestate`, `baggage`, `x-correlation-id`), e.g. relayed from a broker: handlers run
   * in the trace those headers name. `publishedAt` feeds time-in-queue when known.
   */
  relay<E extends keyof Events & string>(
    event: E,
    payload: Events[E],
    headers: HeaderCarrier,
    publishedAt: number = Date.now(),
  ): void {
    this.dispatch(event, payload, { headers }, publishedAt);
  }

  /** Resolves when no delivery is queued or running. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Subscribers currently registered for `event`. */
  listenerCount(event: keyof Events & string): number {
    return this.subscriptions.get(event)?.length ?? 0;
  }

  private dispatch(
    event: string,
    payload: unknown,
    origin: Pick<MessageDescription, 'context' | 'headers'>,
    publishedAt: number,
  ): void {
    for (const subscription of this.subscriptions.get(event) ?? []) {
      this.inFlight++;
      setImmediate(() => {
        void this.deliver(event, payload, origin, publishedAt, subscription).finally(() =>
          this.settled(),
        );
      });
    }
  }

  private async deliver(
    event: string,
    payload: unknown,
    origin: Pick<MessageDescription, 'context' | 'headers'>,
    publishedAt: number,
    subscription: Subscription,
  ): Promise<void> {
    const info: DeliveryInfo = { event, subscriber: subscription.name, publishedAt };
    const description: MessageDescription = {
      system: EVENT_EMITTER_SYSTEM,
      destination: event,
      ...origin,
      timestampMs: publishedAt,
      ...(subscription.name !== undefined && { consumerGroup: subscription.name }),
    };
    try {
      await this.telemetry.process(description, () => subscription.handler(payload as never, info));
    } catch (error) {
      this.report({ ...info, error });
    }
  }

  private report(info: HandlerErrorInfo): void {
    if (this.errorListeners.size === 0) {
      diag.error(`@baton/event-emitter: handler for "${info.event}" failed`, info.error);
      return;
    }
    for (const listener of this.errorListeners) {
      try {
        listener(info);
      } catch {
        // An error listener's own failure must not crash the bus.
      }
    }
  }

  private settled(): void {
    this.inFlight--;
    if (this.inFlight > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Creates a typed in-process {@link EventBus}. */
export function createEventBus<Events extends EventMap>(
  options?: EventBusOptions,
): EventBus<Events> {
  return new EventBus<Events>(options);
}
