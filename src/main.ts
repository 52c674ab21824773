/**
 * The entry point. Help, version and configuration errors are answered here with Node
 * built-ins only; the relay (undici, the AWS SDK) is imported only when it runs, and
 * each answer imports just what it prints, so `--help` costs about what Node itself does.
 */
import { enableCompileCache } from './compile-cache.js';
import { parseCliArgs, type CliArgs } from './config/args.js';
import type { Config } from './config/config.js';
import { failStartup } from './startup-error.js';

async function main(): Promise<void> {
  // Before anything else loads, so that every module after this one is cached.
  enableCompileCache();
  const argv = process.argv.slice(2);
  let args: CliArgs;
  let config: Config;
  try {
    args = parseCliArgs(argv);
    if (args.help) {
      process.stdout.write((await import('./config/help.js')).HELP);
      return;
    }
    if (args.version) {
      process.stdout.write(`${(await import('./version.js')).version()}\n`);
      return;
    }
    const { normalizeConfig } = await import('./config/config.js');
    config = normalizeConfig(args, process.env);
  } catch (err) {
    return failStartup(err, { answerClient: !argv.includes('--check') });
  }
  const { run } = await import('./cli.js');
  await run(config, args.check);
}

await main();
