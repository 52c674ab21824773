// Preloaded with `node --import` (NODE_OPTIONS): records every module URL the process
// resolves, one per line, into the file named by RECORD_IMPORTS_FILE. Lets a test tell
// which dependencies a start-up path loads.
import { register } from 'node:module';

register('./record-imports-hooks.mjs', import.meta.url, { data: { file: process.env.RECORD_IMPORTS_FILE } });
