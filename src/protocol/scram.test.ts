import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCRAM_MECHANISMS, ScramClientExchange, ScramError, ScramServerExchange, saltedPassword, scramCredential, scramMechanismByName, type ScramCredential } from './scram.js';

const SHA256 = scramMechanismByName('SCRAM-SHA-256')!;

// RFC 7677 section 3: user "user", password "pencil".
const RFC_SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const RFC_CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const RFC_SERVER_NONCE = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const RFC_SERVER_FIRST = `r=${RFC_CLIENT_NONCE}${RFC_SERVER_NONCE},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`;
const RFC_CLIENT_FINAL = `c=biws,r=${RFC_CLIENT_NONCE}${RFC_SERVER_NONCE},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`;
const RFC_SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

function rfcCredential(): ScramCredential {
  return scramCredential(SHA256, saltedPassword(SHA256, 'pencil', RFC_SALT, 4096), RFC_SALT, 4096);
}

describe('SCRAM', () => {
  it('the server side reproduces RFC 7677 example exchange', () => {
    const server = new ScramServerExchange(SHA256, (u) => (u === 'user' ? rfcCredential() : undefined), () => RFC_SERVER_NONCE);
    assert.equal(server.respond(Buffer.from(`n,,n=user,r=${RFC_CLIENT_NONCE}`)).toString(), RFC_SERVER_FIRST);
    assert.equal(server.respond(Buffer.from(RFC_CLIENT_FINAL)).toString(), RFC_SERVER_FINAL);
    assert.equal(server.done, true);
    assert.equal(server.user, 'user');
  });

  it('the client side reproduces RFC 7677 example exchange', () => {
    const client = new ScramClientExchange(SHA256, 'user', 'pencil', () => RFC_CLIENT_NONCE);
    assert.equal(client.firstMessage().toString(), `n,,n=user,r=${RFC_CLIENT_NONCE}`);
    assert.equal(client.finalMessage(Buffer.from(RFC_SERVER_FIRST)).toString(), RFC_CLIENT_FINAL);
    client.verifyServerFinal(Buffer.from(RFC_SERVER_FINAL));
    assert.throws(() => client.verifyServerFinal(Buffer.from('v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')), /server signature/);
  });

  for (const m of SCRAM_MECHANISMS) {
    it(`${m.name}: our client and server agree; a wrong password or unknown user fails as a credentials error`, () => {
      const salt = Buffer.from('0123456789abcdef');
      const users = new Map([['al,ice=', scramCredential(m, saltedPassword(m, 'secret', salt, 4096), salt, 4096)]]);
      const exchange = (user: string, password: string) => {
        const server = new ScramServerExchange(m, (u) => users.get(u));
        const client = new ScramClientExchange(m, user, password);
        const serverFirst = server.respond(client.firstMessage());
        client.verifyServerFinal(server.respond(client.finalMessage(serverFirst)));
        return server;
      };
      assert.equal(exchange('al,ice=', 'secret').user, 'al,ice=', 'names with , and = are escaped and unescaped');
      assert.throws(() => exchange('al,ice=', 'wrong'), (e: unknown) => e instanceof ScramError && !e.clientVisible && /Invalid client credentials/.test(e.message));
      assert.throws(() => exchange('bob', 'secret'), (e: unknown) => e instanceof ScramError && !e.clientVisible && /Invalid user credentials/.test(e.message));
    });
  }

  it('refuses malformed messages, channel binding, another authzid, a changed nonce and too few iterations', () => {
    const cred = rfcCredential();
    const server = () => new ScramServerExchange(SHA256, () => cred, () => 'S');
    assert.throws(() => server().respond(Buffer.from('garbage')), /Invalid client first message/);
    assert.throws(() => server().respond(Buffer.from('p=tls-unique,,n=user,r=abc')), /channel binding/);
    assert.throws(() => server().respond(Buffer.from('n,a=admin,n=user,r=abc')), (e: unknown) => e instanceof ScramError && e.clientVisible && /authorization id that is different/.test(e.message));
    assert.doesNotThrow(() => server().respond(Buffer.from('n,a=user,n=user,r=abc,tokenauth=true')));
    const s = server();
    s.respond(Buffer.from('n,,n=user,r=abc'));
    assert.throws(() => s.respond(Buffer.from('c=biws,r=abcX,p=AAAA')), /Invalid client nonce/);
    // librdkafka before 2.6.1 sends its nonce twice; Kafka (and we) accept a nonce ending with ours.
    const old = new ScramServerExchange(SHA256, (u) => (u === 'user' ? rfcCredential() : undefined), () => RFC_SERVER_NONCE);
    old.respond(Buffer.from(`n,,n=user,r=${RFC_CLIENT_NONCE}`));
    assert.throws(() => old.respond(Buffer.from(`c=biws,r=${RFC_CLIENT_NONCE}${RFC_CLIENT_NONCE}${RFC_SERVER_NONCE},p=AAAA`)), /Invalid client credentials/, 'the nonce passes; the proof (made for another AuthMessage) does not');
    const weak = scramCredential(SHA256, saltedPassword(SHA256, 'pencil', RFC_SALT, 1000), RFC_SALT, 1000);
    assert.throws(() => new ScramServerExchange(SHA256, () => weak).respond(Buffer.from('n,,n=user,r=abc')), /Iterations 1000 is less than the minimum 4096/);
  });
});
