export { render as renderInspection } from './inspect.ts';
export { buildProgram } from './program.ts';
