#!/usr/bin/env node
// Launcher: in a checkout Node (>= 22.18) runs the TypeScript sources directly; an installed
// package runs the compiled `dist/`.
import { existsSync } from 'node:fs'
import { URL } from 'node:url'

const source = new URL('../src/cli/main.ts', import.meta.url)
const entry = existsSync(source) ? source : new URL('../dist/cli/main.js', import.meta.url)
await import(entry.href)
