import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** What `requestTarget` got back. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * Sends `GET <target> HTTP/1.1` to `app` on a real server, with `target` verbatim on the request
 * line: an absolute-form target (`http://evil.example/path`, what a forwarding proxy receives)
 * or a path supertest would normalise. Node's client writes `path` to the request line unchanged.
 */
export async function requestTarget(app: Express, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<RawResponse>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'GET', path: target, headers: { connection: 'close', ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, text }); });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
