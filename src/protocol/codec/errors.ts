// The two ways a codec fails. Decoding untrusted bytes fails only with ProtocolDecodeError (the
// server answers or closes the connection); encoding fails with ProtocolEncodeError, which is a
// programmer error: the value does not fit the version it was asked to be written in.

export class ProtocolDecodeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProtocolDecodeError';
  }
}

/** The version asked for is outside the message's validVersions. */
export class UnsupportedVersionError extends ProtocolDecodeError {
  constructor(
    readonly messageName: string,
    readonly version: number,
  ) {
    super(`${messageName}: unsupported version ${version}`);
    this.name = 'UnsupportedVersionError';
  }
}

export class ProtocolEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolEncodeError';
  }
}
