// The `tributary` command: dispatches to one tool per subcommand.
import { runServer } from './server-command.js';

const USAGE = `Usage: tributary <command> [options]

Commands:
  server [server.properties] [--override key=value ...]   start a broker
`;

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return runServer(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`Unknown command '${command}'.\n${USAGE}`);
      process.exitCode = 2;
  }
}
