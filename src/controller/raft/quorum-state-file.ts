// Kafka's `quorum-state` file in the metadata log directory: the election state as JSON, written
// atomically (temp file, fsync, rename) before anything that depends on it is sent. Version 0
// (static voters, kraft.version 0) is what this writes:
//   {"clusterId":"","leaderId":1,"leaderEpoch":2,"votedId":-1,"appliedOffset":0,
//    "currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}
// Version 1 (KIP-853: votedDirectoryId instead of currentVoters) is read too.
import { NO_REPLICA, type ElectionState } from './types.js';

export const QUORUM_STATE_FILE = 'quorum-state';

export class QuorumStateFileError extends Error {
  override name = 'QuorumStateFileError';
}

export function encodeQuorumStateFile(state: ElectionState, voters: readonly number[]): string {
  return JSON.stringify({
    clusterId: '',
    leaderId: state.leaderId,
    leaderEpoch: state.epoch,
    votedId: state.votedId,
    appliedOffset: 0,
    currentVoters: voters.map((voterId) => ({ voterId })),
    data_version: 0,
  });
}

/** Parses the file; a malformed one throws, naming the file and the field. */
export function decodeQuorumStateFile(text: string, file = QUORUM_STATE_FILE): ElectionState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new QuorumStateFileError(`${file}: not JSON (${(err as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new QuorumStateFileError(`${file}: not a JSON object`);
  const o = data as Record<string, unknown>;
  const version = o['data_version'];
  if (version !== 0 && version !== 1) throw new QuorumStateFileError(`${file}: unsupported data_version ${JSON.stringify(version)}`);
  const int = (field: string, min: number, fallback: number): number => {
    const v = o[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > 0x7fffffff) throw new QuorumStateFileError(`${file}: ${field} is ${JSON.stringify(o[field])}`);
    return v;
  };
  return { epoch: int('leaderEpoch', 0, -1), leaderId: int('leaderId', NO_REPLICA, NO_REPLICA), votedId: int('votedId', NO_REPLICA, NO_REPLICA) };
}
