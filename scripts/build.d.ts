// Types of scripts/build.js for the TypeScript that imports it (the tests).
export type DistState = 'fresh' | 'stale' | 'missing' | 'nosrc';
export function distState(): DistState;
export function build(o?: { force?: boolean; clean?: boolean; quiet?: boolean }): boolean;
