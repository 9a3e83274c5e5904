#!/usr/bin/env node
// Launcher: in a checkout Node (>= 22.18) runs the TypeScript sources directly; an installed
// package runs the compiled `dist/`.
import { existsSync } from 'node:fs'
import { URL } from 'node:url'

const source = new URL('../src/cli/main.ts', import.meta.url)
const fromSource = existsSync(source)
// Before the program's modules load (loading them grows V8's young generation, and V8 does not
// shrink it back): a node's memory per peer depends on it (src/node/memory-settings.ts).
await import(new URL(fromSource ? '../src/node/memory-settings.ts' : '../dist/node/memory-settings.js', import.meta.url).href)
const entry = fromSource ? source : new URL('../dist/cli/main.js', import.meta.url)
await import(entry.href)
