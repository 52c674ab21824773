/**
 * The entry point. Help, version and configuration errors are answered here with Node
 * built-ins only; the relay (undici, pino, the AWS SDK) is imported only when it runs, so
 * `--help` costs about what Node itself does.
 */
import { parseCliArgs, type CliArgs } from './config/args.js';
import { normalizeConfig, type Config } from './config/config.js';
import { HELP } from './config/help.js';
import { failStartup } from './startup-error.js';
import { version } from './version.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let args: CliArgs;
  let config: Config;
  try {
    args = parseCliArgs(argv);
    if (args.help) {
      process.stdout.write(HELP);
      return;
    }
    if (args.version) {
      process.stdout.write(`${version()}\n`);
      return;
    }
    config = normalizeConfig(args, process.env);
  } catch (err) {
    return failStartup(err, { answerClient: !argv.includes('--check') });
  }
  const { run } = await import('./cli.js');
  await run(config, args.check);
}

await main();
