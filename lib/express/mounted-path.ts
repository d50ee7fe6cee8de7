import type { Request } from 'express';
import { isLocalPath } from '../local-url';
import { ConsentError } from '../errors';

/**
 * A path under the router's mount point, for redirects and form actions: built from
 * `req.baseUrl`, never from the request target (`req.originalUrl` is absolute-form, naming any
 * host, when the request came through a forwarding proxy).
 * @throws ConsentError `invalid_argument` (400) when a mount path with a parameter took text
 * from the request that could lead off-site.
 */
export function mountedPath(req: Request, path: string): string {
  const full = `${req.baseUrl}${path}`;
  if (isLocalPath(full)) return full;
  throw new ConsentError('invalid_argument', 'the path of this request cannot be used to link back to this site');
}
