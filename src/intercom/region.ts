/** `INTERCOM_API_URL`: a region shorthand or a full base URL (contract §1.1). */

const REGION_HOSTS: Readonly<Record<string, string>> = {
  us: 'https://api.intercom.io',
  eu: 'https://api.eu.intercom.io',
  au: 'https://api.au.intercom.io',
};

export function resolveIntercomBaseUrl(value: string): string {
  const trimmed = value.trim();
  const key = trimmed.toLowerCase();
  // Own keys only: a plain lookup would also find `constructor` and `toString`.
  if (Object.hasOwn(REGION_HOSTS, key)) return REGION_HOSTS[key] as string;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    // The value is not echoed: a misplaced token would otherwise end up in the start-up message.
    throw new Error('INTERCOM_API_URL must be us, eu, au or a full http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`INTERCOM_API_URL must be us, eu, au or a full http(s) URL; got a ${url.protocol} URL`);
  }
  if (url.username || url.password) throw new Error('INTERCOM_API_URL must not carry credentials');
  // The path is kept (a proxy or double may mount the API below a prefix); the client appends to it.
  return trimmed.replace(/\/+$/, '');
}
