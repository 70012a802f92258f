// SaslHandshake (key 17, v1) and SaslAuthenticate (key 36, v0-2) on SASL listeners; the
// mechanisms and their checks live in server/sasl.ts, as does KIP-368's re-authentication (a
// handshake on an authenticated connection whose session expires). On a listener without SASL both answer
// ILLEGAL_SASL_STATE, as Kafka does. After SaslHandshake v0 the token comes as a bare frame
// (before KIP-152), which the router hands to the session itself.
import { ErrorCode } from '../../protocol/errors.js';
import { SaslAuthenticateRequest } from '../../protocol/messages/SaslAuthenticateRequest.js';
import { SaslAuthenticateResponse } from '../../protocol/messages/SaslAuthenticateResponse.js';
import { SaslHandshakeRequest } from '../../protocol/messages/SaslHandshakeRequest.js';
import { SaslHandshakeResponse } from '../../protocol/messages/SaslHandshakeResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { Logger } from '../../logger.js';

export function saslHandshakeHandler() {
  return defineHandler({
    request: SaslHandshakeRequest,
    response: SaslHandshakeResponse,
    minVersion: 0,
    maxVersion: 1,
    handle(ctx, req) {
      const res = SaslHandshakeResponse.defaults();
      const sasl = ctx.connection.sasl;
      if (sasl === null) {
        res.errorCode = ErrorCode.ILLEGAL_SASL_STATE;
        return res;
      }
      res.errorCode = sasl.handshake(req.mechanism, ctx.apiVersion);
      res.mechanisms = [...sasl.settings.mechanisms];
      return res;
    },
  });
}

export function saslAuthenticateHandler(log: Logger) {
  return defineHandler({
    request: SaslAuthenticateRequest,
    response: SaslAuthenticateResponse,
    minVersion: 0,
    maxVersion: 2,
    handle(ctx, req) {
      const res = SaslAuthenticateResponse.defaults();
      const sasl = ctx.connection.sasl;
      if (sasl === null) {
        res.errorCode = ErrorCode.ILLEGAL_SASL_STATE;
        res.errorMessage = `SaslAuthenticate on listener ${ctx.connection.listenerName}, which has no SASL`;
        return res;
      }
      const reauthenticating = sasl.reauthenticating;
      const step = sasl.authenticate(req.authBytes, ctx.apiVersion);
      const remote = `${ctx.connection.remoteAddress}:${ctx.connection.remotePort}`;
      if (step.ok) {
        res.authBytes = step.response;
        res.sessionLifetimeMs = BigInt(step.sessionLifetimeMs);
        if (sasl.authenticated) {
          const fields = { listener: ctx.connection.listenerName, remote, principal: sasl.principal, sessionLifetimeMs: step.sessionLifetimeMs };
          // Once per session lifetime per connection: rare enough for info, and the evidence KIP-368 works.
          if (reauthenticating) log.info({ ...fields, reauthentications: sasl.reauthentications }, 're-authenticated');
          else log.debug(fields, 'authenticated');
        }
      } else {
        res.errorCode = step.errorCode;
        res.errorMessage = step.message;
        log.info({ listener: ctx.connection.listenerName, remote, ...(reauthenticating ? { reauthentication: true, principal: sasl.principal } : {}), reason: step.message, ...(sasl.failureDetail !== null ? { detail: sasl.failureDetail } : {}) }, 'failed authentication');
      }
      return res;
    },
  });
}
