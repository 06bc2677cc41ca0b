export { scaleRuleDurations, TIME_SCALE } from './scaled-rules.js';
export { runWalkthrough, type Walkthrough, type WalkthroughExemplar } from './walkthrough.js';
