#!/usr/bin/env node
// The package's bin: runs the compiled CLI (built by `npm install`/`npm ci` through `prepare`).
import '../dist/src/cli/main.js';
