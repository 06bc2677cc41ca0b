export { DEFAULT_AMQPLIB_OPTIONS, traceChannel } from './channel.js';
export {
  ATTR_DEATH_COUNT,
  ATTR_DEATH_REASON,
  ATTR_DELIVERY_TAG,
  ATTR_REDELIVERED,
  ATTR_ROUTING_KEY,
  ATTR_SETTLE_MULTIPLE,
  ATTR_SETTLE_REQUEUE,
  DEFAULT_EXCHANGE,
  DEFAULT_PUBLISH_TIME_HEADER,
} from './message.js';
export type {
  AckMode,
  AmqpChannelLike,
  AmqplibOptions,
  AmqpMessage,
  ConsumerErrorInfo,
  FailureMode,
  LagChannel,
  LagConnection,
} from './types.js';
