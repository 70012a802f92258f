// Kafka's JAAS configuration strings (`sasl.jaas.config`), read the same way by the broker (the
// users of a listener's PlainLoginModule) and by our client (its own username and password):
//   org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="x";
// Values are quoted (backslash escapes) or bare words.

export const PLAIN_LOGIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule';
export const SCRAM_LOGIN_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule';

export interface JaasConfig {
  loginModule: string;
  /** required, requisite, sufficient or optional. */
  flag: string;
  /** The module's options in order of appearance (a repeated key keeps its last value). */
  options: Map<string, string>;
}

/** Parses one login module entry; throws with the reason when `jaas` is not one. */
export function parseJaasConfig(jaas: string): JaasConfig {
  const m = /^\s*(\S+)\s+(required|requisite|sufficient|optional)\b\s*([\s\S]*?)\s*;?\s*$/.exec(jaas);
  if (m === null) throw new Error('expected "<LoginModule> required key="value" ...;"');
  const options = new Map<string, string>();
  const option = /([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*/y;
  const body = m[3]!;
  let pos = 0;
  while (pos < body.length) {
    option.lastIndex = pos;
    const o = option.exec(body);
    if (o === null) throw new Error(`cannot read the options at '${body.slice(pos, pos + 20)}'`);
    pos = option.lastIndex;
    options.set(o[1]!, o[2] !== undefined ? o[2].replace(/\\(.)/g, '$1') : o[3]!);
  }
  return { loginModule: m[1]!, flag: m[2]!, options };
}

/** Parses `jaas` and checks that it configures `loginModule`. */
export function parseJaasConfigOf(jaas: string, loginModule: string): Map<string, string> {
  const config = parseJaasConfig(jaas);
  if (config.loginModule !== loginModule) throw new Error(`login module ${config.loginModule} is not ${loginModule}`);
  return config.options;
}
