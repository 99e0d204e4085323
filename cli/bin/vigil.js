#!/usr/bin/env node
// CommonJS (bin/package.json): see cli/src/launch.cts
/* global require */
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS (see above)
require('../dist/launch.cjs').launch();
