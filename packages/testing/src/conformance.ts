export { CASES, runConformanceCase, runConformanceSuite } from './conformance/suite.js';
export type {
  CaseContext,
  ConformanceCase,
  ConformanceHarness,
  ConformanceOptions,
  Delivery,
} from './conformance/types.js';
