/** The Marathon simulator: a fake Marathon over real HTTP for the demo, e2e tests and benchmarks. */
export { Simulator, SimulatorError } from './simulator';
export type { LeaderOptions, SimulatorOptions } from './simulator';
export type { AuthOptions } from './auth';
export type { Faults } from './faults';
export { loadScenario, parseScenario } from './scenario';
export type { Scenario, Step } from './scenario';
export { runTimeline, startScenario } from './timeline';
export { signRs256 } from './jwt';
export { sseFrame } from './sse';
export type { SimApp, SimEvent, SimState, SimTask, TaskState } from './types';
