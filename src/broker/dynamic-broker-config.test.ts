import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseConfigName, dynamicBrokerConfigProblem } from './dynamic-broker-config.js';

test('connections.max.reauth.ms: static as in Kafka; its listener-mechanism form names the same key and is type-checked', () => {
  assert.equal(dynamicBrokerConfigProblem(new Map([['connections.max.reauth.ms', '1000']]), true), 'Cannot update these configs dynamically: Set(connections.max.reauth.ms)');
  assert.equal(baseConfigName('listener.name.client.scram-sha-256.connections.max.reauth.ms'), 'connections.max.reauth.ms');
  assert.match(String(dynamicBrokerConfigProblem(new Map([['listener.name.client.scram-sha-256.connections.max.reauth.ms', 'soon']]), true)), /Invalid value soon for configuration listener\.name\.client\.scram-sha-256\.connections\.max\.reauth\.ms/);
});
