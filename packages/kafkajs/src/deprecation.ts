import { Diagnostics } from '@baton/core';
import { PACKAGE_NAME } from './version.js';

const diagnostics = new Diagnostics(PACKAGE_NAME);

/** One warning per process for each deprecated name still in use. */
export const warnDeprecated = (name: string, instead: string): void =>
  diagnostics.deprecated(name, instead);
