#!/usr/bin/env -S node --max-semi-space-size=64
// The `lyceum` command: runs the TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
