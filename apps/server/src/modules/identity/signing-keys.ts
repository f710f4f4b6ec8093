import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../../core/clock.js';
import type { SecretStore } from '../../core/secrets.js';
import type { IdentityRepo } from './identity.repo.js';

export const SIGNING_ALG = 'EdDSA';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: string;
  use: string;
}

/**
 * The access-token signing keys. Private keys live in the secret store (files in embedded mode, the
 * database in cluster mode); the table lists which keys exist, in generations, with their public
 * halves. The newest generation signs; older ones still verify until their last token has expired,
 * so a rotation logs nobody out. Each key is imported once as a CryptoKey (fast verification).
 */
export interface SigningKeyRing {
  /** Loads the keys, creating the first one if there is none; later calls wait for the first. */
  ensure(): Promise<void>;
  current(): SigningKey;
  /** The verification key for `kid`; an unknown kid reloads the table at most once a second. */
  verificationKey(kid: string): Promise<CryptoKey | undefined>;
  /** Public keys that may still verify a live token, for `/.well-known/jwks.json`. */
  jwks(): { keys: PublicJwk[] };
  /** Makes a new key the signing key and retires the old one; returns the new kid. */
  rotate(): Promise<string>;
  /** True when the signing key is older than `maxAgeDays` (0: never). */
  isDue(maxAgeDays: number): boolean;
  reload(): Promise<void>;
}

interface LoadedKey {
  kid: string;
  generation: number;
  createdAt: string;
  retiredAt: string | null;
  publicJwk: PublicJwk;
  publicKey: CryptoKey;
}

export function createSigningKeyRing(deps: { repo: IdentityRepo; secrets: SecretStore; clock: Clock; accessTokenTtl: number }): SigningKeyRing {
  const { repo, secrets, clock } = deps;
  let keys = new Map<string, LoadedKey>();
  let signing: SigningKey | undefined;
  let lastReload = 0;

  const secretName = (kid: string) => `identity-signing-key-${kid}`;

  async function createKey(generation: number): Promise<void> {
    const kid = randomBytes(8).toString('hex');
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const privateJwk = JSON.stringify(await exportJWK(privateKey));
    // The private half is stored before the row that announces it, so a node that sees the row finds the key.
    await secrets.getOrCreate(secretName(kid), () => privateJwk);
    const exported = await exportJWK(publicKey);
    const publicJwk: PublicJwk = { kty: exported.kty!, crv: exported.crv!, x: exported.x!, kid, alg: SIGNING_ALG, use: 'sig' };
    await repo.insertSigningKey({ kid, generation, public_jwk: JSON.stringify(publicJwk), created_at: clock.now().toISOString(), retired_at: null });
  }

  async function load(): Promise<void> {
    const rows = await repo.listSigningKeys();
    const next = new Map<string, LoadedKey>();
    for (const row of rows) {
      const existing = keys.get(row.kid);
      const publicJwk = JSON.parse(row.public_jwk) as PublicJwk;
      next.set(row.kid, {
        kid: row.kid,
        generation: row.generation,
        createdAt: row.created_at,
        retiredAt: row.retired_at,
        publicJwk,
        publicKey: existing?.publicKey ?? ((await importJWK({ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x }, SIGNING_ALG)) as CryptoKey),
      });
    }
    keys = next;
    const newest = [...keys.values()].sort((a, b) => b.generation - a.generation)[0];
    if (newest && signing?.kid !== newest.kid) {
      const stored = await secrets.getOrCreate(secretName(newest.kid), () => '');
      const jwk = stored ? (JSON.parse(stored) as JWK) : null;
      // Missing when the database was moved without DATA_DIR/secrets: init() then makes a new key.
      signing = jwk?.d ? { kid: newest.kid, privateKey: (await importJWK(jwk, SIGNING_ALG)) as CryptoKey } : undefined;
    }
    lastReload = Date.now();
  }

  let ready: Promise<void> | undefined;
  async function init(): Promise<void> {
    await load();
    if (!signing) {
      // No key yet, or the newest one's private half is not in this node's secret store (a database
      // restored without its secrets). Another node may win the race to create it: load what it made.
      const next = Math.max(0, ...[...keys.values()].map((k) => k.generation)) + 1;
      await createKey(next).catch(() => undefined);
      await load();
    }
    if (!signing) throw new Error('No access-token signing key could be created');
  }

  return {
    ensure() {
      ready ??= init().catch((err: unknown) => {
        ready = undefined;
        throw err;
      });
      return ready;
    },
    current() {
      if (!signing) throw new Error('Signing keys are not loaded yet');
      return signing;
    },
    async verificationKey(kid) {
      await this.ensure();
      const known = keys.get(kid);
      if (known) return known.publicKey;
      if (Date.now() - lastReload < 1000) return undefined;
      await load();
      return keys.get(kid)?.publicKey;
    },
    jwks() {
      const horizon = clock.now().getTime() - deps.accessTokenTtl * 1000;
      return {
        keys: [...keys.values()]
          .filter((k) => !k.retiredAt || Date.parse(k.retiredAt) > horizon)
          .sort((a, b) => b.generation - a.generation)
          .map((k) => k.publicJwk),
      };
    },
    async rotate() {
      await load();
      const newest = Math.max(0, ...[...keys.values()].map((k) => k.generation));
      await createKey(newest + 1);
      await repo.retireSigningKeysBefore(newest + 1, clock.now().toISOString());
      await load();
      return signing!.kid;
    },
    isDue(maxAgeDays) {
      if (!maxAgeDays || !signing) return false;
      const key = keys.get(signing.kid);
      return !!key && clock.now().getTime() - Date.parse(key.createdAt) >= maxAgeDays * 86_400_000;
    },
    reload: load,
  };
}
