import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { createExampleApp } from './create-app';

/** Reads PORT, CONSENT_DB, CONSENT_SECRET and SESSION_SECRET, starts the example and prints its URL. */
async function main(): Promise<void> {
  const port = process.env.PORT === undefined || process.env.PORT === '' ? 3000 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number (0 picks a free one), not "${process.env.PORT}"`);
  const databaseFile = resolve(process.env.CONSENT_DB || '.data/example.sqlite3');
  const sessionSecret = process.env.SESSION_SECRET ? Buffer.from(process.env.SESSION_SECRET) : undefined;
  const example = await createExampleApp({ databaseFile, secret: process.env.CONSENT_SECRET || undefined, sessionSecret });

  const server = createServer(example.app);
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    console.log(`express-consent example: consent records in ${databaseFile}`);
    console.log(`Listening on http://127.0.0.1:${actual}/`);
  });
  const stop = () => server.close(() => void example.close().then(() => process.exit(0)));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
