export {
  healthOf,
  traceChannel,
  traceConsumer,
  traceProducer,
} from './channel.js';
export { traceHandler } from './handler.js';
export {
  ATTR_DEATH_COUNT,
  ATTR_DEATH_REASON,
  ATTR_DELIVERY_TAG,
  ATTR_REDELIVERED,
  ATTR_ROUTING_KEY,
  ATTR_SETTLE_MULTIPLE,
  ATTR_SETTLE_REQUEUE,
  consumeDestination,
  DEFAULT_EXCHANGE,
  DEFAULT_PUBLISH_TIME_HEADER,
  publishDestination,
} from './message.js';
export { DEFAULT_AMQPLIB_OPTIONS } from './options.js';
export type { AmqpPublish } from './producer.js';
export { routingKeyTemplate } from './template.js';
export type {
  AckMode,
  AmqpChannelLike,
  AmqplibConsumerOptions,
  AmqplibErrorInfo,
  AmqplibOptions,
  AmqplibProducerOptions,
  AmqpMessage,
  ConsumerErrorInfo,
  FailureMode,
  LagChannel,
  LagConnection,
  TraceHandlerOptions,
} from './types.js';
