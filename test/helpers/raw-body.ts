import type { Test } from 'supertest';

/**
 * Sends `body` byte for byte. Supertest serialises a Buffer as JSON (`{"type":"Buffer",…}`)
 * when the content type is JSON; hostile bodies must reach the server as they are.
 */
export function sendRaw(test: Test, body: Buffer | string): Test {
  return test.serialize((raw: unknown) => raw as string).send(body);
}
