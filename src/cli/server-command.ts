// `tributary server [server.properties] [--override key=value ...]`: runs a broker until SIGTERM
// or SIGINT, then shuts down cleanly (checkpoints written, so the next start skips recovery).
import { Broker } from '../node/broker.js';
import { BrokerConfig, ConfigError } from '../broker/config.js';
import { loggerFor } from '../logger.js';
import { StorageStartupError } from '../storage/errors.js';
import { ListenerBindError } from '../server/listener-sockets.js';

const USAGE = `Usage: tributary server [server.properties] [--override key=value ...]

Starts a broker (and controller) with the configuration of server.properties (Kafka's keys;
config/server.properties is the single-node example), each --override winning over the file.
It runs until SIGTERM or SIGINT, then shuts down cleanly. Logs go to stderr: human-readable on
a terminal, JSON lines elsewhere (TRIBUTARY_LOG_FORMAT=text|json to choose;
TRIBUTARY_LOG_LEVEL=debug|info|warn|error, default info).
`;

export async function runServer(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  let file: string | null = null;
  const overrides = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--override') {
      const kv = args[++i];
      const eq = kv?.indexOf('=') ?? -1;
      if (kv === undefined || eq <= 0) return fail(`--override needs key=value, got '${kv ?? ''}'`);
      overrides.set(kv.slice(0, eq), kv.slice(eq + 1));
    } else if (arg.startsWith('-')) {
      return fail(`Unknown option '${arg}'. Usage: tributary server [server.properties] [--override key=value ...]`);
    } else if (file === null) {
      file = arg;
    } else {
      return fail(`Unexpected argument '${arg}'`);
    }
  }

  let config: BrokerConfig;
  try {
    config = BrokerConfig.load(file, overrides);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return fail(`Cannot read configuration file '${file}'`);
    throw err;
  }

  const log = loggerFor('server');
  // Signal handlers go in before start-up and before the 'started' line: a supervisor (or a test)
  // may send SIGTERM as soon as it reads that line, and an unhandled SIGTERM kills the process
  // without a clean shutdown. A signal during start-up stops the broker once it has started.
  let broker: Broker | null = null;
  let stopRequested: string | null = null;
  let stopping = false;
  const shutdown = (signal: string) => {
    stopRequested ??= signal;
    if (stopping || broker === null) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    broker.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  const onSigterm = () => shutdown('SIGTERM');
  const onSigint = () => shutdown('SIGINT');
  process.on('SIGTERM', onSigterm);
  process.on('SIGINT', onSigint);
  try {
    broker = await Broker.start({ config });
  } catch (err) {
    process.off('SIGTERM', onSigterm);
    process.off('SIGINT', onSigint);
    // A locked, damaged or inconsistent data directory: one line naming the file, exit code 1.
    if (err instanceof ConfigError || err instanceof StorageStartupError || err instanceof ListenerBindError) return fail(err.message);
    throw err;
  }
  log.info({ nodeId: config.nodeId, listeners: broker.listeners }, 'started');
  if (stopRequested !== null) shutdown(stopRequested);
}

function fail(message: string): void {
  process.stderr.write(`tributary server: ${message}\n`);
  process.exitCode = 1;
}
