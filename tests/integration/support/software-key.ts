import { createHash, createSign, generateKeyPairSync, randomBytes } from "node:crypto";
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { isoBase64URL, isoCBOR } from "@simplewebauthn/server/helpers";
import { afterAll, beforeAll } from "vitest";

/** The relying party the tests run as: AUTH_URL for the file, and the origin and RP ID a key signs for. */
export const TEST_ORIGIN = "http://localhost:3999";
const TEST_RP_ID = "localhost";

export type SoftwareKeyOptions = {
  userVerified?: boolean;
  /** BE/BS flags: a synced passkey (multi-device, backed up). */
  synced?: boolean;
  /** The signature counter's start; `counter: null` keeps none (always 0). */
  counter?: number | null;
  discoverable?: boolean;
  credentialId?: Buffer;
};

/** What a forged ceremony changes from an honest one (what a real authenticator and browser never send). */
export type Forgery = {
  challenge?: string;
  origin?: string;
  rpId?: string;
  type?: string;
  crossOrigin?: boolean;
  topOrigin?: string;
  /** The counter reported, this once (the key's own counter is not moved). */
  counter?: number;
  userPresent?: boolean;
  /** null: no user handle sent. */
  userHandle?: string | null;
  /** Sign with another key's private key (the credential id stays this key's). */
  signer?: SoftwareKey;
  /** A signature of random bytes (what someone without the private key can send). */
  garbage?: boolean;
  /** The UV flag of this assertion (a passkey touched without its PIN or fingerprint: false). */
  userVerified?: boolean;
};

export const b64 = (bytes: Uint8Array | Buffer) => isoBase64URL.fromBuffer(Uint8Array.from(bytes));
const sha256 = (data: Uint8Array | Buffer | string) => createHash("sha256").update(data).digest();

/**
 * A WebAuthn authenticator in software, for in-process tests: an ES256 key
 * pair, "none" attestation, and the flags and counter a test chooses. What
 * it signs is what a browser would send (@simplewebauthn/browser's JSON),
 * unless a Forgery says otherwise. Over HTTP and in Chromium, tests use
 * Chromium's virtual authenticator.
 */
export class SoftwareKey {
  readonly credentialId: Buffer;
  private readonly keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  private count: number;
  userHandle: string | null = null;

  constructor(private readonly options: SoftwareKeyOptions = {}) {
    this.credentialId = options.credentialId ?? randomBytes(16);
    this.count = options.counter === null ? 0 : (options.counter ?? 1);
  }

  get id(): string {
    return b64(this.credentialId);
  }

  get counter(): number {
    return this.count;
  }

  /** navigator.credentials.create(): the answer to registration options. */
  register(options: PublicKeyCredentialCreationOptionsJSON, forged: Pick<Forgery, "challenge" | "origin" | "rpId" | "type"> = {}): RegistrationResponseJSON {
    this.userHandle = options.user.id;
    const clientDataJSON = Buffer.from(
      JSON.stringify({ type: forged.type ?? "webauthn.create", challenge: forged.challenge ?? options.challenge, origin: forged.origin ?? TEST_ORIGIN, crossOrigin: false }),
    );
    const jwk = this.keys.publicKey.export({ format: "jwk" });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Uint8Array.from(Buffer.from(jwk.x!, "base64url"))],
        [-3, Uint8Array.from(Buffer.from(jwk.y!, "base64url"))],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, Buffer.from(cose)]);
    const authData = this.authenticatorData(forged.rpId ?? TEST_RP_ID, 0x01 | this.uvFlag() | this.backupFlags() | 0x40, this.count, attested);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([["fmt", "none"], ["attStmt", new Map()], ["authData", Uint8Array.from(authData)]]) as never);
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: { clientDataJSON: b64(clientDataJSON), attestationObject: b64(Buffer.from(attestationObject)), transports: ["usb"] },
      clientExtensionResults: { credProps: { rk: this.options.discoverable ?? false } },
      authenticatorAttachment: "cross-platform",
    };
  }

  /** navigator.credentials.get(): an assertion over the options' challenge. */
  assert(options: { challenge: string }, forged: Forgery = {}): AuthenticationResponseJSON {
    let counter: number;
    if (forged.counter !== undefined) counter = forged.counter;
    else {
      if (this.options.counter !== null) this.count += 1;
      counter = this.count;
    }
    const client: Record<string, unknown> = {
      type: forged.type ?? "webauthn.get",
      challenge: forged.challenge ?? options.challenge,
      origin: forged.origin ?? TEST_ORIGIN,
      crossOrigin: forged.crossOrigin ?? false,
    };
    if (forged.topOrigin) client.topOrigin = forged.topOrigin;
    const clientDataJSON = Buffer.from(JSON.stringify(client));
    const uv = forged.userVerified === undefined ? this.uvFlag() : forged.userVerified ? 0x04 : 0;
    const flags = (forged.userPresent === false ? 0 : 0x01) | uv | this.backupFlags();
    const authData = this.authenticatorData(forged.rpId ?? TEST_RP_ID, flags, counter, Buffer.alloc(0));
    const signer = forged.signer ?? this;
    const signature = forged.garbage ? randomBytes(70) : signer.sign(Buffer.concat([authData, sha256(clientDataJSON)]));
    const userHandle = forged.userHandle === undefined ? this.userHandle : forged.userHandle;
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: {
        clientDataJSON: b64(clientDataJSON),
        authenticatorData: b64(authData),
        signature: b64(signature),
        ...(userHandle ? { userHandle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "cross-platform",
    };
  }

  sign(data: Buffer): Buffer {
    return createSign("SHA256").update(data).sign(this.keys.privateKey);
  }

  private uvFlag(): number {
    return this.options.userVerified === false ? 0 : 0x04;
  }

  private backupFlags(): number {
    return this.options.synced ? 0x08 | 0x10 : 0;
  }

  private authenticatorData(rpId: string, flags: number, counter: number, attested: Buffer): Buffer {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), bytes, attested]);
  }
}

/** Sets AUTH_URL to TEST_ORIGIN for the file (the relying party comes from it, never from a request). */
export function runAsTestRelyingParty(): void {
  const saved = process.env.AUTH_URL;
  beforeAll(() => {
    process.env.AUTH_URL = TEST_ORIGIN;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.AUTH_URL;
    else process.env.AUTH_URL = saved;
  });
}

/** A software key for TEST_ORIGIN. */
export const softwareKey = (options: SoftwareKeyOptions = {}) => new SoftwareKey(options);
