// `tributary metadata-quorum`: kafka-metadata-quorum.sh's describe. `--status` prints the quorum
// summary (cluster id, leader, epoch, high watermark, the largest follower lag in offsets and in
// time, voters and observers with their endpoints); `--replication` the table of replicas with
// their log end offset, lag and fetch times (`--human-readable`: "N ms ago"). Either bootstrap
// option: a broker answers DescribeQuorum by asking the active controller, a controller by
// asking the leader. Output and messages as Kafka's MetadataQuorumCommand writes them.
import { Admin, type QuorumInfo, type QuorumReplicaInfo } from '../client/index.js';
import { ToolError, UsageError, clientOptions, flag, out, parseToolArgs, runTool, showHelp, str } from './tool-support.js';

const USAGE = `Usage: tributary metadata-quorum (--bootstrap-server HOST:PORT | --bootstrap-controller HOST:PORT) [--command-config FILE] describe (--status | --replication [--human-readable])

This tool describes kraft metadata quorum status.

Commands:
  describe        Describe the metadata quorum info

Options:
  --bootstrap-server HOST:PORT      brokers to connect to
  --bootstrap-controller HOST:PORT  controllers to connect to
  --command-config FILE             client settings (properties file)
  --status                          a short summary of the quorum status
  --replication                     detailed information about the status of replication
  --human-readable                  with --replication: times as "N ms ago"
`;

const OPTIONS = {
  'bootstrap-controller': { type: 'string' },
  status: { type: 'boolean' },
  replication: { type: 'boolean' },
  'human-readable': { type: 'boolean' },
} as const;

/** Kafka's Uuid.ZERO_UUID in its display form: a replica without a directory id. */
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export async function runMetadataQuorum(argv: string[]): Promise<void> {
  await runTool('metadata-quorum', USAGE, async () => {
    const { values, positionals } = parseToolArgs(argv, OPTIONS);
    if (showHelp(values, USAGE)) return;
    const controller = str(values, 'bootstrap-controller');
    const server = str(values, 'bootstrap-server');
    if (controller !== undefined && server !== undefined) throw new UsageError('argument --bootstrap-controller: not allowed with argument --bootstrap-server');
    if (controller === undefined && server === undefined) throw new UsageError('one of the arguments --bootstrap-server --bootstrap-controller is required');
    if (controller !== undefined) values['bootstrap-server'] = controller;
    const command = positionals[0];
    if (command === undefined) throw new UsageError('too few arguments');
    if (command !== 'describe') throw new UsageError(`invalid choice: '${command}' (choose from 'describe')`);
    if (positionals.length > 1) throw new UsageError(`unrecognized arguments: '${positionals[1]}'`);
    const status = flag(values, 'status');
    const replication = flag(values, 'replication');
    const humanReadable = flag(values, 'human-readable');
    if (status && replication) throw new ToolError('Only one of --status or --replication should be specified with describe sub-command');
    if (!status && !replication) throw new ToolError('One of --status or --replication must be specified with describe sub-command');
    if (status && humanReadable) throw new ToolError('The option --human-readable is only supported along with --replication');
    const admin = new Admin(clientOptions(values));
    try {
      if (replication) {
        await out(replicationTable(await admin.describeMetadataQuorum(), humanReadable, Date.now()));
      } else {
        const { clusterId } = await admin.describeCluster();
        await out(statusText(clusterId ?? '', await admin.describeMetadataQuorum()));
      }
    } finally {
      await admin.close();
    }
  });
}

function leaderOf(q: QuorumInfo): QuorumReplicaInfo {
  const leader = q.voters.find((v) => v.replicaId === q.leaderId);
  if (leader === undefined) throw new ToolError(`The quorum's leader ${q.leaderId} is not among its voters`);
  return leader;
}

/** `describe --status`, as Kafka prints it. */
export function statusText(clusterId: string, q: QuorumInfo): string {
  const leader = leaderOf(q);
  // The voter furthest behind (the first of them in voter order), as Kafka's stream min.
  let maxLag = q.voters[0]!;
  for (const v of q.voters) if (v.logEndOffset < maxLag.logEndOffset) maxLag = v;
  const maxFollowerLag = leader.logEndOffset - maxLag.logEndOffset;
  let maxFollowerLagTimeMs: bigint;
  if (maxLag === leader) maxFollowerLagTimeMs = 0n;
  else if (leader.lastCaughtUpTimestamp >= 0n && maxLag.lastCaughtUpTimestamp >= 0n) maxFollowerLagTimeMs = leader.lastCaughtUpTimestamp - maxLag.lastCaughtUpTimestamp;
  else maxFollowerLagTimeMs = -1n;
  return (
    `ClusterId:              ${clusterId}\n` +
    `LeaderId:               ${q.leaderId}\n` +
    `LeaderEpoch:            ${q.leaderEpoch}\n` +
    `HighWatermark:          ${q.highWatermark}\n` +
    `MaxFollowerLag:         ${maxFollowerLag}\n` +
    `MaxFollowerLagTimeMs:   ${maxFollowerLagTimeMs}\n` +
    `CurrentVoters:          ${replicaList(q, q.voters)}\n` +
    `CurrentObservers:       ${replicaList(q, q.observers)}\n`
  );
}

/** `[{"id": 1, "directoryId": null, "endpoints": ["CONTROLLER://host:9093"]}, ...]` */
function replicaList(q: QuorumInfo, replicas: readonly QuorumReplicaInfo[]): string {
  const items = replicas.map((r) => {
    const dir = r.replicaDirectoryId === ZERO_UUID ? 'null' : `"${r.replicaDirectoryId}"`;
    const endpoints = q.nodes.get(r.replicaId) ?? [];
    return `{"id": ${r.replicaId}, "directoryId": ${dir}${endpoints.length > 0 ? `, "endpoints": [${endpoints.map((e) => `"${e}"`).join(', ')}]` : ''}}`;
  });
  return `[${items.join(', ')}]`;
}

/** `describe --replication`: Kafka's table, each column padded to its widest value and ended by a tab. */
export function replicationTable(q: QuorumInfo, humanReadable: boolean, nowMs: number): string {
  const leader = leaderOf(q);
  const time = (t: bigint, what: string): string => {
    if (t < 0n) return '-1';
    if (!humanReadable) return String(t);
    const ago = BigInt(nowMs) - t;
    if (t <= 0n || ago < 0n) throw new ToolError(`Error while computing relative time, possible drift in system clock.\nCurrent timestamp is ${nowMs}, ${what} timestamp is ${t}`);
    return `${ago} ms ago`;
  };
  const row = (r: QuorumReplicaInfo, status: string): string[] => [
    String(r.replicaId),
    r.replicaDirectoryId,
    String(r.logEndOffset),
    String(leader.logEndOffset - r.logEndOffset),
    time(r.lastFetchTimestamp, 'last fetch'),
    time(r.lastCaughtUpTimestamp, 'last caught up'),
    status,
  ];
  const rows = [row(leader, 'Leader'), ...q.voters.filter((v) => v.replicaId !== q.leaderId).map((v) => row(v, 'Follower')), ...q.observers.map((o) => row(o, 'Observer'))];
  const headers = ['NodeId', 'DirectoryId', 'LogEndOffset', 'Lag', 'LastFetchTimestamp', 'LastCaughtUpTimestamp', 'Status'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [headers, ...rows].map((r) => r.map((v, i) => `${v.padEnd(widths[i]!)}\t`).join('') + '\n').join('');
}
