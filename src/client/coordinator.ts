// Coordinator lookup (FindCoordinator) with a small cache, shared by the admin client and the
// consumer: of groups (key type 0) or, for a Coordinators made with key type 1, of transactional
// ids. A NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE answer invalidates the entry.
import { ErrorCode } from '../protocol/errors.js';
import { FindCoordinatorRequest } from '../protocol/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../protocol/messages/FindCoordinatorResponse.js';
import type { Cluster } from './cluster.js';
import { KafkaClientError } from './errors.js';

export const KEY_TYPE_GROUP = 0;
export const KEY_TYPE_TRANSACTION = 1;

export class Coordinators {
  private readonly byGroup = new Map<string, number>();

  constructor(
    private readonly cluster: Cluster,
    private readonly keyType = KEY_TYPE_GROUP,
  ) {}

  /** Node id of the coordinator of `groupId` (a request unless cached). */
  async find(groupId: string, signal?: AbortSignal): Promise<number> {
    const cached = this.byGroup.get(groupId);
    if (cached !== undefined) return cached;
    const res = await this.cluster.sendAny(
      { request: FindCoordinatorRequest, response: FindCoordinatorResponse },
      (v) => {
        const req = FindCoordinatorRequest.defaults();
        if (v >= 4) req.coordinatorKeys = [groupId];
        else req.key = groupId;
        req.keyType = this.keyType;
        return req;
      },
      signal === undefined ? {} : { signal },
    );
    let errorCode: number;
    let nodeId: number;
    let message: string | null;
    if (res.coordinators.length > 0) {
      const c = res.coordinators[0]!;
      errorCode = c.errorCode;
      nodeId = c.nodeId;
      message = c.errorMessage;
    } else {
      errorCode = res.errorCode;
      nodeId = res.nodeId;
      message = res.errorMessage;
    }
    if (errorCode !== ErrorCode.NONE) throw new KafkaClientError(errorCode, message ?? undefined, { where: `FindCoordinator for ${this.keyType === KEY_TYPE_GROUP ? 'group' : 'transactional id'} ${groupId}` });
    this.byGroup.set(groupId, nodeId);
    return nodeId;
  }

  invalidate(groupId: string): void {
    this.byGroup.delete(groupId);
  }

  /** Invalidates the cached coordinator when `code` says it moved. */
  check(groupId: string, code: number): void {
    if (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.NETWORK_EXCEPTION) {
      this.invalidate(groupId);
    }
  }
}
