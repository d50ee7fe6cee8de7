import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { createExampleApp } from './create-app';

/** Express's `trust proxy` from TRUST_PROXY: `true`, `false`, a hop count, or addresses and subnets. */
function trustProxy(value: string | undefined): boolean | number | string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** Reads PORT, CONSENT_DB, CONSENT_SECRET, SESSION_SECRET and TRUST_PROXY, starts the example and prints its URL. */
async function main(): Promise<void> {
  const port = process.env.PORT === undefined || process.env.PORT === '' ? 3000 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number (0 picks a free one), not "${String(process.env.PORT)}"`);
  const databaseFile = resolve(process.env.CONSENT_DB || '.data/example.sqlite3');
  const sessionSecret = process.env.SESSION_SECRET ? Buffer.from(process.env.SESSION_SECRET) : undefined;
  const example = await createExampleApp({ databaseFile, secret: process.env.CONSENT_SECRET || undefined, sessionSecret, trustProxy: trustProxy(process.env.TRUST_PROXY) });

  const server = createServer(example.app);
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    console.log(`express-consent example: consent records in ${databaseFile}`);
    console.log(`Listening on http://127.0.0.1:${String(actual)}/`);
  });
  const stop = () => server.close(() => void example.close().then(() => process.exit(0)));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
