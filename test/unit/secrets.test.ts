// Secrets at rest (AES-256-GCM, key rotation) and the forms a secret is masked in, without a server.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, isSealed } from '../../store/secret-box.js';
import { scrub, secretForms } from '../../dsl/secrets.js';

describe('kv secrets at rest', () => {
  const keyA = randomBytes(32).toString('hex');
  const keyB = randomBytes(32).toString('base64');

  it('seals with AES-256-GCM under the current key and opens what it sealed; a value stored before encryption passes through', () => {
    const box = new SecretBox(keyA);
    const sealed = box.seal({ password: 'hunter2' });
    expect(isSealed(sealed)).toBe(true);
    expect(JSON.stringify(sealed)).not.toContain('hunter2');
    expect(box.open(sealed)).toEqual({ password: 'hunter2' });
    expect(box.open('legacy plain value')).toBe('legacy plain value');
    // a new nonce each time: the same value never seals the same way twice
    expect(box.seal('x').data).not.toBe(box.seal('x').data);
  });

  it('rotation: a new key opens what the previous one sealed only when it is listed as previous; tampering is refused', () => {
    const sealed = new SecretBox(keyA).seal('s3cret');
    expect(() => new SecretBox(keyB).open(sealed)).toThrow(/neither CLOSELOOP_SECRET_KEY nor one of CLOSELOOP_SECRET_KEY_PREVIOUS/);
    const rotated = new SecretBox(keyB, [keyA]);
    expect(rotated.open(sealed)).toBe('s3cret');
    expect(rotated.seal('s3cret').kid).not.toBe(sealed.kid);
    expect(() => rotated.open({ ...sealed, data: Buffer.from('tampered').toString('base64') })).toThrow();
    // a passphrase is stretched into a key: the same passphrase, the same key
    expect(new SecretBox('correct horse battery staple').open(new SecretBox('correct horse battery staple').seal(1))).toBe(1);
  });
});

describe('masking', () => {
  it('covers the secret as it is, JSON-escaped, URL-encoded and base64 at any alignment, and as a substring', () => {
    const secret = 'a"b\\c d/e+f=é';
    const texts = [
      `Bearer ${secret}!`,
      JSON.stringify({ s: secret }),
      `?q=${encodeURIComponent(secret)}&x=1`,
      ...[0, 1, 2].map((pad) => Buffer.from(`${'x'.repeat(pad)}${secret}tail`).toString('base64')),
      Buffer.from(`ab${secret}`).toString('base64url'),
    ];
    for (const t of texts) expect(scrub(t, [secret]), t).toContain('***');
    expect(scrub({ [secret]: secret }, [secret])).toEqual({ '***': '***' });
    expect(secretForms('abc')).toEqual([]); // too short to mask without masking noise
  });
});
