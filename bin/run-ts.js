#!/usr/bin/env node
// Runs a TypeScript entry point (benchmarks, scripts) through tsx: node bin/run-ts.js file.ts args...
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const { register } = await import('tsx/esm/api');
register();
const file = process.argv[2];
if (!file) { console.error('usage: node bin/run-ts.js <file.ts> [args...]'); process.exit(2); }
process.argv.splice(1, 1);
await import(pathToFileURL(path.resolve(file)).href);
