// `tributary cluster`: kafka-cluster.sh. `cluster-id` prints the cluster id the brokers report
// (DescribeCluster, or Metadata from older brokers). `tributary cluster-id` is the same command.
import { Admin } from '../client/index.js';
import { ToolError, UsageError, clientOptions, out, parseToolArgs, runTool, showHelp, str } from './tool-support.js';

const USAGE = `Usage: tributary cluster cluster-id (--bootstrap-server HOST:PORT | --bootstrap-controller HOST:PORT) [--config FILE]

Commands:
  cluster-id    print the cluster id
`;

const OPTIONS = {
  'bootstrap-controller': { type: 'string' },
  config: { type: 'string', short: 'c' },
} as const;

export async function runCluster(argv: string[]): Promise<void> {
  await runTool('cluster', USAGE, async () => {
    const { values, positionals } = parseToolArgs(argv, OPTIONS);
    if (showHelp(values, USAGE)) return;
    const command = positionals[0];
    if (command === undefined) throw new UsageError('Missing command: cluster-id');
    if (command !== 'cluster-id') throw new UsageError(`Unknown command '${command}': cluster-id`);
    if (positionals.length > 1) throw new UsageError(`Unexpected argument '${positionals[1]}'`);
    // kafka-cluster.sh takes client settings with --config; a combined node answers on its
    // broker listener what a controller answers on its own.
    const controller = str(values, 'bootstrap-controller');
    if (controller !== undefined && str(values, 'bootstrap-server') !== undefined) throw new UsageError('Only one of --bootstrap-server or --bootstrap-controller must be specified');
    if (controller !== undefined) values['bootstrap-server'] = controller;
    const config = str(values, 'config');
    if (config !== undefined) values['command-config'] = config;
    const admin = new Admin(clientOptions(values));
    try {
      const { clusterId } = await admin.describeCluster();
      if (clusterId === null) throw new ToolError('Error: the cluster did not report a cluster id');
      await out(`Cluster ID: ${clusterId}\n`);
    } finally {
      await admin.close();
    }
  });
}
