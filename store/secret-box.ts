// kv secrets at rest: AES-256-GCM under CLOSELOOP_SECRET_KEY (docs/security.md "Secrets"). Older
// keys (CLOSELOOP_SECRET_KEY_PREVIOUS) still open what they sealed until `closeloop secrets rotate`.
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSettings } from '../workers/settings.js';

/** What a sealed value looks like in the kv table's JSON column. */
export interface Sealed {
  $sealed: 'aes-256-gcm';
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

export const isSealed = (v: unknown): v is Sealed => typeof v === 'object' && v !== null && (v as { $sealed?: unknown }).$sealed === 'aes-256-gcm';

/** 64 hex characters or 32 bytes of base64 are the key itself; anything else is a passphrase, stretched with scrypt. */
function keyFrom(material: string): Buffer {
  const s = material.trim();
  if (/^[0-9a-f]{64}$/i.test(s)) return Buffer.from(s, 'hex');
  const b = Buffer.from(s, 'base64');
  if (b.length === 32 && /^[A-Za-z0-9+/=_-]+$/.test(s)) return b;
  return scryptSync(s, 'closeloop-kv-secrets', 32);
}
const kidOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 12);

export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  readonly kid: string;

  constructor(current: string, previous: string[] = []) {
    const key = keyFrom(current);
    this.kid = kidOf(key);
    this.keys.set(this.kid, key);
    for (const p of previous) {
      const k = keyFrom(p);
      this.keys.set(kidOf(k), k);
    }
  }

  seal(value: unknown): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.kid)!, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(value ?? null), 'utf8'), cipher.final()]);
    return { $sealed: 'aes-256-gcm', kid: this.kid, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  /** The plain value; a value stored before encryption passes through as it is. */
  open(stored: unknown): unknown {
    if (!isSealed(stored)) return stored;
    const key = this.keys.get(stored.kid);
    if (!key) throw new Error(`a kv secret was sealed with key ${stored.kid}, which is neither CLOSELOOP_SECRET_KEY nor one of CLOSELOOP_SECRET_KEY_PREVIOUS`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(stored.data, 'base64')), decipher.final()]).toString('utf8');
    return JSON.parse(text) as unknown;
  }
}

let box: SecretBox | undefined;

/**
 * The process's secret box: CLOSELOOP_SECRET_KEY, or (for the embedded default) a key generated once
 * in `<data dir>/secret.key`, with a warning, so every process sharing the data directory agrees.
 */
export function secretBox(env: NodeJS.ProcessEnv = process.env, dataDir = readSettings(env).dataDir): SecretBox {
  if (box) return box;
  const previous = (env.CLOSELOOP_SECRET_KEY_PREVIOUS ?? '').split(',').filter((s) => s.trim());
  if (env.CLOSELOOP_SECRET_KEY) return (box = new SecretBox(env.CLOSELOOP_SECRET_KEY, previous));
  const file = join(dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // another process of the same data directory made it first: use theirs
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  console.warn(
    `closeloop: CLOSELOOP_SECRET_KEY is not set: kv secrets are encrypted with the key in ${file}. Set CLOSELOOP_SECRET_KEY in production (docs/security.md).`,
  );
  return (box = new SecretBox(readFileSync(file, 'utf8'), previous));
}
