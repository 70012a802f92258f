// The records of the cluster metadata log (KRaft's), as values: what the controller writes and
// every image is replayed from.
import type { AccessControlEntryRecordData } from '../protocol/messages/AccessControlEntryRecord.js';
import type { BrokerRegistrationChangeRecordData } from '../protocol/messages/BrokerRegistrationChangeRecord.js';
import type { ConfigRecordData } from '../protocol/messages/ConfigRecord.js';
import type { FenceBrokerRecordData } from '../protocol/messages/FenceBrokerRecord.js';
import type { FeatureLevelRecordData } from '../protocol/messages/FeatureLevelRecord.js';
import type { PartitionChangeRecordData } from '../protocol/messages/PartitionChangeRecord.js';
import type { PartitionRecordData } from '../protocol/messages/PartitionRecord.js';
import type { ProducerIdsRecordData } from '../protocol/messages/ProducerIdsRecord.js';
import type { RegisterBrokerRecordData } from '../protocol/messages/RegisterBrokerRecord.js';
import type { RemoveAccessControlEntryRecordData } from '../protocol/messages/RemoveAccessControlEntryRecord.js';
import type { RemoveTopicRecordData } from '../protocol/messages/RemoveTopicRecord.js';
import type { RemoveUserScramCredentialRecordData } from '../protocol/messages/RemoveUserScramCredentialRecord.js';
import type { TopicRecordData } from '../protocol/messages/TopicRecord.js';
import type { UnfenceBrokerRecordData } from '../protocol/messages/UnfenceBrokerRecord.js';
import type { UnregisterBrokerRecordData } from '../protocol/messages/UnregisterBrokerRecord.js';
import type { UserScramCredentialRecordData } from '../protocol/messages/UserScramCredentialRecord.js';

/** Record types of the metadata log, as Kafka numbers them. */
export const MetadataRecordType = {
  RegisterBrokerRecord: 0,
  UnregisterBrokerRecord: 1,
  TopicRecord: 2,
  PartitionRecord: 3,
  ConfigRecord: 4,
  PartitionChangeRecord: 5,
  FenceBrokerRecord: 7,
  UnfenceBrokerRecord: 8,
  RemoveTopicRecord: 9,
  UserScramCredentialRecord: 11,
  FeatureLevelRecord: 12,
  ProducerIdsRecord: 15,
  BrokerRegistrationChangeRecord: 17,
  AccessControlEntryRecord: 18,
  RemoveAccessControlEntryRecord: 19,
  RemoveUserScramCredentialRecord: 22,
} as const;

/** Kafka's ConfigResource types. */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4, GROUP: 32 } as const;

export type MetadataRecord =
  | { type: 0; version: number; data: RegisterBrokerRecordData }
  | { type: 1; version: number; data: UnregisterBrokerRecordData }
  | { type: 7; version: number; data: FenceBrokerRecordData }
  | { type: 8; version: number; data: UnfenceBrokerRecordData }
  | { type: 17; version: number; data: BrokerRegistrationChangeRecordData }
  | { type: 2; version: number; data: TopicRecordData }
  | { type: 3; version: number; data: PartitionRecordData }
  | { type: 4; version: number; data: ConfigRecordData }
  | { type: 5; version: number; data: PartitionChangeRecordData }
  | { type: 9; version: number; data: RemoveTopicRecordData }
  | { type: 11; version: number; data: UserScramCredentialRecordData }
  | { type: 22; version: number; data: RemoveUserScramCredentialRecordData }
  | { type: 18; version: number; data: AccessControlEntryRecordData }
  | { type: 19; version: number; data: RemoveAccessControlEntryRecordData }
  | { type: 12; version: number; data: FeatureLevelRecordData }
  | { type: 15; version: number; data: ProducerIdsRecordData };
