import type { ConsumerHealth } from '@baton/core';
import type * as v010 from 'amqplib';
import type * as v010Callback from 'amqplib/callback_api.js';
import type * as v1 from 'amqplib-v1';
import type * as v2 from 'amqplib-v2';
import type * as v2Callback from 'amqplib-v2/callback_api';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type AmqplibErrorInfo,
  type AmqpMessage,
  type ConsumerErrorInfo,
  healthOf,
  type LagConnection,
  traceChannel,
  traceConsumer,
  traceHandler,
  traceProducer,
} from '../src/index.js';

// Compile-time checks of the public surface against each amqplib's own declarations:
// Baton types channels structurally, so these would stop compiling if a shape drifted.
describe('public types', () => {
  it('returns the channel type it was given, for every amqplib version and API', () => {
    expectTypeOf(traceChannel<v010.Channel>).returns.toEqualTypeOf<v010.Channel>();
    expectTypeOf(traceChannel<v010.ConfirmChannel>).returns.toEqualTypeOf<v010.ConfirmChannel>();
    expectTypeOf(traceChannel<v010Callback.Channel>).returns.toEqualTypeOf<v010Callback.Channel>();
    expectTypeOf(traceChannel<v1.ConfirmChannel>).returns.toEqualTypeOf<v1.ConfirmChannel>();
    expectTypeOf(traceChannel<v2.Channel>).returns.toEqualTypeOf<v2.Channel>();
    expectTypeOf(traceChannel<v2.ConfirmChannel>).returns.toEqualTypeOf<v2.ConfirmChannel>();
    expectTypeOf(
      traceChannel<v2Callback.ConfirmChannel>,
    ).returns.toEqualTypeOf<v2Callback.ConfirmChannel>();
  });

  it('returns the channel type from traceProducer and traceConsumer, composed either way', () => {
    expectTypeOf(traceProducer<v010.ConfirmChannel>).returns.toEqualTypeOf<v010.ConfirmChannel>();
    expectTypeOf(traceConsumer<v2.Channel>).returns.toEqualTypeOf<v2.Channel>();
    expectTypeOf(traceConsumer<v1.ConfirmChannel>).returns.toEqualTypeOf<v1.ConfirmChannel>();
    const compose = (channel: v010.Channel) => traceProducer(traceConsumer(channel));
    expectTypeOf(compose).returns.toEqualTypeOf<v010.Channel>();
    expectTypeOf(healthOf).returns.toEqualTypeOf<ConsumerHealth[]>();
  });

  it("keeps the shape of a handler traceHandler wraps, for amqplib's own message types", () => {
    const handler = (msg: v010.ConsumeMessage | null) => (msg ? msg.content.length : 0);
    expectTypeOf(traceHandler(handler)).toEqualTypeOf<
      (msg: v010.ConsumeMessage | null) => number
    >();
    const v2Handler = async (msg: v2.ConsumeMessage | null): Promise<void> => {
      if (msg) msg.content.length;
    };
    expectTypeOf(traceHandler(v2Handler)).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<v010.ConsumeMessage>().toExtend<AmqpMessage>();
  });

  it('keeps the old error info name as an alias', () => {
    expectTypeOf<ConsumerErrorInfo>().toEqualTypeOf<AmqplibErrorInfo>();
  });

  it('accepts a promise-API connection of every version as the lag connection', () => {
    expectTypeOf<v010.ChannelModel>().toExtend<LagConnection>();
    expectTypeOf<v1.ChannelModel>().toExtend<LagConnection>();
    expectTypeOf<v2.ChannelModel>().toExtend<LagConnection>();
  });

  it('rejects things that are not channels', () => {
    // @ts-expect-error a channel needs publish()
    traceChannel({ consume() {} });
  });
});
