import {
  type ConsumerHealth,
  type HeaderCarrier,
  HealthTracker,
  type MessageDescription,
  MessagingTelemetry,
  readHealth,
  registerHealth,
} from '@baton/core';
import { warnDeprecated } from './deprecation.js';
import type {
  DeliveryInfo,
  EventBusErrorInfo,
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
  consumerGroup: string | undefined;
  /** The subscribing view's telemetry: process spans belong to the subscriber. */
  telemetry: MessagingTelemetry;
  /** The view it was made through (its `healthOf` lists it). */
  owner: object;
  /** Deliveries queued for it and not yet handed to the handler. */
  queued: number;
  /** When a delivery last reached its handler, ms since the epoch. */
  lastDeliveryAtMs: number | undefined;
  /** Its handler's last failure, as text. */
  lastError: string | undefined;
}

/**
 * The health of the subscriptions made through `bus` (an {@link EventBus} or one of its
 * {@link EventBus.withOptions} views: each reports its own), for core's `checkReadiness`:
 * one entry per event and consumer group. `running` and `connected` while subscribed (an
 * in-process bus has no connection to lose; an unsubscribed handler drops out);
 * `lastPollAtMs`: when a delivery last reached a handler; `lag`: deliveries queued and not
 * yet handed to a handler; `lastError`: a handler's last failure. Empty for anything else.
 *
 * @example
 * const readiness = checkReadiness(healthOf(bus), { maxLag: 10_000 });
 */
export function healthOf(bus: object): ConsumerHealth[] {
  return readHealth(bus);
}

/** State shared by a bus and its {@link EventBus.withOptions} views. */
interface Hub {
  subscriptions: Map<string, Subscription[]>;
  /** The deprecated `onHandlerError` listeners, shared by every view. */
  errorListeners: Set<(info: HandlerErrorInfo) => void>;
  inFlight: number;
  idleWaiters: Array<() => void>;
}

/**
 * A typed in-process event bus. Every publish runs in a `send <event>` span; every
 * delivery runs asynchronously in a `process <event>` span whose parent is that send span.
 * The context travels as an object (no serialization); events relayed from another bus
 * with W3C headers are accepted by {@link EventBus.relay}.
 */
export class EventBus<Events extends EventMap> {
  private readonly telemetry: MessagingTelemetry;
  private readonly hub: Hub;
  private readonly onError: EventBusOptions['onError'];

  constructor(options: EventBusOptions = {}, hub?: Hub) {
    this.telemetry = new MessagingTelemetry(SCOPE, options);
    this.onError = this.telemetry.options.onError;
    this.hub = hub ?? {
      subscriptions: new Map(),
      errorListeners: new Set(),
      inFlight: 0,
      idleWaiters: [],
    };
    if (options.onHandlerError !== undefined) {
      warnDeprecated('the option onHandlerError', 'onError(error, info)');
      if (typeof options.onHandlerError === 'function') {
        this.hub.errorListeners.add(options.onHandlerError);
      }
    }
    registerHealth(this, () => this.health());
  }

  /**
   * A view of the SAME bus (same subscribers, same queue) whose own publishes and
   * subscriptions use other options, e.g. another service's tracer provider when several
   * services share one process, as in the demo. It keeps this view's `onError` unless
   * `options` has one.
   */
  withOptions(options: EventBusOptions): EventBus<Events> {
    const inherited = this.onError === undefined ? {} : { onError: this.onError };
    return new EventBus<Events>({ ...inherited, ...options }, this.hub);
  }

  /**
   * Adds a handler for `event`; returns a function that removes it. `consumerGroup` names
   * the subscriber (a service): `messaging.consumer.group.name`.
   */
  subscribe<E extends keyof Events & string>(
    event: E,
    handler: EventHandler<Events[E]>,
    options: SubscribeOptions = {},
  ): () => void {
    if (options.name !== undefined) {
      warnDeprecated('the subscribe option name', 'consumerGroup');
    }
    const subscription: Subscription = {
      handler: handler as EventHandler<never>,
      consumerGroup: options.consumerGroup ?? options.name,
      telemetry: this.telemetry,
      owner: this,
      queued: 0,
      lastDeliveryAtMs: undefined,
      lastError: undefined,
    };
    this.hub.subscriptions.set(event, [...(this.hub.subscriptions.get(event) ?? []), subscription]);
    return () => {
      const remaining = (this.hub.subscriptions.get(event) ?? []).filter((s) => s !== subscription);
      if (remaining.length > 0) this.hub.subscriptions.set(event, remaining);
      else this.hub.subscriptions.delete(event);
    };
  }

  /**
   * Listens for handler failures of every view; returns a function that stops listening.
   * @deprecated Use the `onError` option; goes away in the next release.
   */
  onHandlerError(listener: (info: HandlerErrorInfo) => void): () => void {
    warnDeprecated('bus.onHandlerError(listener)', 'the onError option');
    this.hub.errorListeners.add(listener);
    return () => this.hub.errorListeners.delete(listener);
  }

  /**
   * Publishes `payload` to every current subscriber of `event`. Returns once the event is
   * queued; handlers run later, each in its own process span. Never throws for a handler.
   */
  publish<E extends keyof Events & string>(event: E, payload: Events[E]): void {
    const description = {
      system: EVENT_EMITTER_SYSTEM,
      destination: event,
      message: payload,
      injectHeaders: false,
    };
    this.telemetry.publish(description, (_headers, _inject, sendContext) => {
      // The send span's context is the creation context of every delivery.
      this.dispatch(event, payload, { context: sendContext }, Date.now());
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
    if (this.hub.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.hub.idleWaiters.push(resolve));
  }

  /** Subscribers currently registered for `event`. */
  listenerCount(event: keyof Events & string): number {
    return this.hub.subscriptions.get(event)?.length ?? 0;
  }

  // One entry per event and consumer group subscribed through this view.
  private health(): ConsumerHealth[] {
    const trackers = new Map<string, HealthTracker>();
    for (const [event, subscriptions] of this.hub.subscriptions) {
      for (const subscription of subscriptions) {
        if (subscription.owner !== this) continue;
        const { consumerGroup } = subscription;
        const key = `${event}\u0000${consumerGroup ?? ''}`;
        let tracker = trackers.get(key);
        if (tracker === undefined) {
          tracker = new HealthTracker(EVENT_EMITTER_SYSTEM, event, consumerGroup);
          tracker.running = true;
          tracker.connected = true;
          tracker.lag = 0;
          trackers.set(key, tracker);
        }
        tracker.lag = (tracker.lag ?? 0) + subscription.queued;
        const at = subscription.lastDeliveryAtMs;
        if (at !== undefined && (tracker.lastPollAtMs === undefined || at > tracker.lastPollAtMs)) {
          tracker.lastPollAtMs = at;
        }
        tracker.lastError ??= subscription.lastError;
      }
    }
    return [...trackers.values()].map((tracker) => tracker.snapshot());
  }

  private dispatch(
    event: string,
    payload: unknown,
    origin: Pick<MessageDescription, 'context' | 'headers'>,
    publishedAt: number,
  ): void {
    for (const subscription of this.hub.subscriptions.get(event) ?? []) {
      this.hub.inFlight++;
      subscription.queued++;
      setImmediate(() => this.deliver(event, payload, origin, publishedAt, subscription));
    }
  }

  // Not an async function: a synchronous handler settles without allocating promises.
  private deliver(
    event: string,
    payload: unknown,
    origin: Pick<MessageDescription, 'context' | 'headers'>,
    publishedAt: number,
    subscription: Subscription,
  ): void {
    subscription.queued--;
    subscription.lastDeliveryAtMs = Date.now();
    const { consumerGroup } = subscription;
    const info: DeliveryInfo = { event, consumerGroup, subscriber: consumerGroup, publishedAt };
    const description: MessageDescription = {
      system: EVENT_EMITTER_SYSTEM,
      destination: event,
      message: payload,
      context: origin.context,
      headers: origin.headers,
      timestampMs: publishedAt,
      consumerGroup,
    };
    let result: unknown;
    try {
      result = subscription.telemetry.process(description, () =>
        subscription.handler(payload as never, info),
      );
    } catch (error) {
      this.report(subscription, payload, info, error);
      this.settled();
      return;
    }
    if (result instanceof Promise) {
      result.then(
        () => this.settled(),
        (error: unknown) => {
          this.report(subscription, payload, info, error);
          this.settled();
        },
      );
    } else {
      this.settled();
    }
  }

  // To the subscribing view's onError (core: one diag warning per kind without one), and to
  // the deprecated onHandlerError listeners.
  private report(
    subscription: Subscription,
    payload: unknown,
    delivery: DeliveryInfo,
    error: unknown,
  ): void {
    subscription.lastError = describeError(error);
    const listeners = this.hub.errorListeners;
    for (const listener of listeners) {
      try {
        listener({ ...delivery, error });
      } catch {
        // An error listener's own failure must not crash the bus.
      }
    }
    if (listeners.size > 0 && subscription.telemetry.options.onError === undefined) return;
    const info: EventBusErrorInfo = {
      operation: 'process',
      destination: delivery.event,
      message: payload,
      event: delivery.event,
      consumerGroup: delivery.consumerGroup,
      publishedAt: delivery.publishedAt,
    };
    subscription.telemetry.reportError(error, info);
  }

  private settled(): void {
    this.hub.inFlight--;
    if (this.hub.inFlight > 0) return;
    const waiters = this.hub.idleWaiters;
    this.hub.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Creates a typed in-process {@link EventBus}. */
export function createEventBus<Events extends EventMap>(
  options?: EventBusOptions,
): EventBus<Events> {
  return new EventBus<Events>(options);
}

// A handler's failure as text for healthOf; whatever was thrown, this never throws.
function describeError(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    return 'a handler failed';
  }
}
