export { createEventBus, EVENT_EMITTER_SYSTEM, EventBus, healthOf } from './event-bus.js';
export type {
  DeliveryInfo,
  EventBusErrorInfo,
  EventBusOptions,
  EventHandler,
  EventMap,
  HandlerErrorInfo,
  SubscribeOptions,
} from './types.js';
