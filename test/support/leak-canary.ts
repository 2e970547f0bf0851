import type { Redis } from 'ioredis';

/** Every form in which a leaked secret could show up: as issued, decoded to hex, re-encoded as base64. */
export function materialForms(materials: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const m of materials) {
    const bytes = Buffer.from(m, 'base64url');
    forms.add(m);
    forms.add(bytes.toString('hex'));
    forms.add(bytes.toString('base64').replace(/=+$/, ''));
    forms.add(Buffer.from(m, 'utf8').toString('base64').replace(/=+$/, ''));
    forms.add(Buffer.from(m, 'utf8').toString('hex'));
  }
  return [...forms];
}

/** Every key and value in a Redis database, as one string (strings, hashes, sets, zsets, lists, streams). */
export async function dumpRedis(redis: Redis): Promise<string> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      out.push(key);
      if (type === 'string') out.push(String(await redis.get(key)));
      else if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'set') out.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') out.push(JSON.stringify(await redis.zrange(key, '0', '-1', 'WITHSCORES')));
      else if (type === 'list') out.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'stream') out.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return out.join('\n');
}

/** Which of the forms occur in which haystack; empty means no leak. */
export function findLeaks(forms: readonly string[], haystacks: Record<string, string>): string[] {
  const hits: string[] = [];
  for (const [where, text] of Object.entries(haystacks)) {
    for (const form of forms) if (text.includes(form)) hits.push(`${where} contains ${form.slice(0, 6)}…`);
  }
  return hits;
}
