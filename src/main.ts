/**
 * The entry point. Help, version and configuration errors are answered here with Node
 * built-ins only; the relay (undici, the AWS SDK) is imported only when it runs, and
 * each answer imports just what it prints, so `--help` costs about what Node itself does.
 */
import { enableCompileCache } from './compile-cache.js';
import { parseCliArgs, type CliArgs } from './config/args.js';
import type { Config } from './config/config.js';
import type { Layered } from './config/config-file.js';
import { ConfigError, ProxyError } from './errors.js';
import { failStartup } from './startup-error.js';

async function main(): Promise<void> {
  // Before anything else loads, so that every module after this one is cached.
  enableCompileCache();
  // `login` / `logout` (README "OAuth", "Browser login") take the relay's endpoint settings.
  const command = process.argv[2] === 'login' || process.argv[2] === 'logout' ? process.argv[2] : undefined;
  const argv = process.argv.slice(command === undefined ? 2 : 3);
  let args: CliArgs;
  let config: Config;
  let layered: Layered;
  try {
    args = parseCliArgs(argv);
    if (args.json && !args.check) throw new ConfigError('--json only applies to --check', 'add --check, or remove --json');
    if (args.help) {
      process.stdout.write((await import('./config/help.js')).HELP);
      return;
    }
    if (args.version) {
      process.stdout.write(`${(await import('./version.js')).version()}\n`);
      return;
    }
    // The config file sits below flags and the environment (README "Config file").
    // A login is always for the oauth-login signer, whatever auto would pick without one.
    if (command !== undefined) args = { ...args, signer: args.signer ?? 'oauth-login' };
    layered = (await import('./config/config-file.js')).applyConfigFile(args, process.env);
    if (args.printConfig) {
      process.stdout.write((await import('./config/print-config.js')).renderConfig(layered));
      return;
    }
    const { normalizeConfig } = await import('./config/config.js');
    config = normalizeConfig(layered.args, layered.env);
    if (config.acceptTools !== undefined && config.pinTools !== undefined) {
      const [{ acceptTools }, { pinKey }] = await Promise.all([import('./pinning/accept-tools.js'), import('./pinning/pin-key.js')]);
      // As the relay does before its first log line: the key masks a secret in the URL path.
      const [{ registerSecret }, { registerConfiguredSecrets }] = await Promise.all([import('./logging/safe-url.js'), import('./signers/registry.js')]);
      registerConfiguredSecrets(config.auth);
      for (const [, value] of config.headers) registerSecret(value);
      const endpoint = pinKey(config.endpoint);
      for (const name of await acceptTools(config.pinTools, endpoint, config.acceptTools)) process.stdout.write(`accepted tool "${name}" for ${endpoint} in ${config.pinTools}\n`);
      return;
    }
    if (command !== undefined) {
      const cli = await import('./login-cli.js');
      await (command === 'login' ? cli.runLogin(config) : cli.runLogout(config));
      process.exit(0);
    }
  } catch (err) {
    if (command !== undefined) return failStartup(err, { answerClient: false });
    if (argv.includes('--check') && argv.includes('--json') && err instanceof ProxyError) {
      const [{ configurationFailure }, { version }] = await Promise.all([import('./check/report.js'), import('./version.js')]);
      process.stdout.write(configurationFailure(err.message, err.hint, version()));
    }
    return failStartup(err, { answerClient: !argv.includes('--check') && !argv.includes('--print-config') && !argv.includes('--accept-tool') });
  }
  try {
    const { run } = await import('./cli.js');
    await run(config, args.check ? { layered, json: args.json } : undefined);
  } catch (err) {
    // A missing or broken dependency (a partial install), or a start-up step that threw:
    // still a message and an answer the host can show, not a stack trace.
    const known = err instanceof ProxyError ? err : new ProxyError('ESP_START', `failed to start (${err instanceof Error ? err.name : 'error'}${(err as { code?: unknown })?.code ? ` ${String((err as { code?: unknown }).code)}` : ''})`, {
      hint: 'reinstall the package (npm install, or clear the npx cache) and run it again with --debug',
    });
    return failStartup(known, { answerClient: !args.check });
  }
}

await main();
