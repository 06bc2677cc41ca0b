/** This package's name and version, for the instrumentation scope. */
export const PACKAGE_NAME = '@baton/kafkajs';
export const PACKAGE_VERSION = '0.1.0';
