import { Diagnostics } from '@baton/core';

const diagnostics = new Diagnostics('@baton/event-emitter');

/** One warning per process for each deprecated name still in use. */
export const warnDeprecated = (name: string, instead: string): void =>
  diagnostics.deprecated(name, instead);
