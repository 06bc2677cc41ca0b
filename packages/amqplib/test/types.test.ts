import type * as v010 from 'amqplib';
import type * as v010Callback from 'amqplib/callback_api.js';
import type * as v1 from 'amqplib-v1';
import type * as v2 from 'amqplib-v2';
import type * as v2Callback from 'amqplib-v2/callback_api';
import { describe, expectTypeOf, it } from 'vitest';
import { type LagConnection, traceChannel } from '../src/index.js';

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
