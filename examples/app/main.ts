import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener } from 'node:http';
import { resolve } from 'node:path';
import { createExampleApp } from './create-app';

/** Express's `trust proxy` from TRUST_PROXY: `true`, `false`, a hop count, or addresses and subnets. */
function trustProxy(value: string | undefined): boolean | number | string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** What to say when the port is taken, instead of a stack trace. */
function portTaken(port: number): string {
  return [
    `Port ${String(port)} is already in use (another program, or the example running already).`,
    `Stop that program, or start the example on another port: PORT=${String(port + 1)} npm start`,
    'or let the system pick a free one: PORT=0 npm start',
  ].join('\n');
}

/**
 * Reads PORT, PUBLIC_URL, CONSENT_DB, CONSENT_SECRET, SESSION_SECRET, TRUST_PROXY and
 * ADMIN_PASSWORD, starts the example and prints its URL and the admin console's. The port is
 * taken first, so that the address in the example's emails is known (PORT=0 picks one).
 */
async function main(): Promise<void> {
  const port = process.env.PORT === undefined || process.env.PORT === '' ? 3000 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number (0 picks a free one), not "${String(process.env.PORT)}"`);
  const databaseFile = resolve(process.env.CONSENT_DB || '.data/example.sqlite3');
  const sessionSecret = process.env.SESSION_SECRET ? Buffer.from(process.env.SESSION_SECRET) : undefined;
  const adminPassword = process.env.ADMIN_PASSWORD || randomBytes(12).toString('base64url');
  // Until the example is ready (migrations), a request is told to come back.
  let handle: RequestListener = (_req, res) => { res.writeHead(503, { 'Retry-After': '1' }).end('Starting, try again in a moment.'); };
  const server = createServer((req, res) => { handle(req, res); });
  await new Promise<void>((listening) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      console.error(error.code === 'EADDRINUSE' ? portTaken(port) : `The example cannot listen on port ${String(port)}: ${error.message}`);
      process.exit(1);
    });
    server.listen(port, '127.0.0.1', listening);
  });
  const address = server.address();
  const base = `http://127.0.0.1:${String(typeof address === 'object' && address ? address.port : port)}`;
  // Behind a proxy the printed address is not the public one: without PUBLIC_URL, links are paths.
  const publicUrl = process.env.PUBLIC_URL || (process.env.TRUST_PROXY ? undefined : base);
  const example = await createExampleApp({ databaseFile, secret: process.env.CONSENT_SECRET || undefined, sessionSecret, trustProxy: trustProxy(process.env.TRUST_PROXY), adminPassword, publicUrl });
  handle = example.app;
  console.log(`express-consent example: consent records in ${databaseFile}`);
  console.log(`Admin console: ${base}/consent/admin/console/ (user admin, password ${process.env.ADMIN_PASSWORD ? 'from ADMIN_PASSWORD' : adminPassword})`);
  console.log(`Development mailbox (confirmation emails): ${base}/dev/mailbox`);
  console.log(`Listening on ${base}/`);
  const stop = () => server.close(() => void example.close().then(() => process.exit(0)));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
