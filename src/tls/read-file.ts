import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** Reads a file named by a setting, or a ConfigError naming the file and the errno. */
export function readSettingFile(what: string, path: string, hint: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${what} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, hint);
  }
}
