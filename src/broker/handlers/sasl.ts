// SaslHandshake (key 17, v1) and SaslAuthenticate (key 36, v0-2) on SASL listeners; the
// mechanisms and their checks live in server/sasl.ts. On a listener without SASL both answer
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
      const step = sasl.authenticate(req.authBytes);
      const remote = `${ctx.connection.remoteAddress}:${ctx.connection.remotePort}`;
      if (step.ok) {
        res.authBytes = step.response;
        log.debug({ listener: ctx.connection.listenerName, remote, principal: sasl.principal }, 'authenticated');
      } else {
        res.errorCode = step.errorCode;
        res.errorMessage = step.message;
        log.info({ listener: ctx.connection.listenerName, remote, reason: step.message, ...(sasl.failureDetail !== null ? { detail: sasl.failureDetail } : {}) }, 'failed authentication');
      }
      return res;
    },
  });
}
