import { isLocalPath } from '../local-url';

/**
 * Links of confirmation tokens: under `confirm.baseUrl`, else under the path the router is
 * mounted at (`req.baseUrl`, recorded as it handles requests), never under the Host header.
 */
export class ConfirmLinks {
  private mountPath = '';
  /** The router has handled a request (or there is a `baseUrl`, or the warning was given). */
  private settled: boolean;

  /** `warn` is told once when a link is made before the mount path is known. */
  constructor(
    private readonly baseUrl: string | null,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.settled = baseUrl !== null;
  }

  /**
   * Records the router's mount path. A mount path with a parameter takes its text from the
   * request: one that could lead off-site is not kept.
   */
  remember(path: string): void {
    // Called for every request the router handles: the same path is not checked again.
    this.settled = true;
    if (path === this.mountPath) return;
    if (path === '' || isLocalPath(path)) this.mountPath = path;
  }

  /**
   * The link of a token ('' stands for the mount path until the router has seen a request).
   * `mountPath`: that of the router request making the link, when one does (a router mounted at
   * several paths, or under a parameter, then links each request under its own path).
   */
  url(token: string, mountPath?: string): string {
    if (this.baseUrl === null && mountPath !== undefined && (mountPath === '' || isLocalPath(mountPath))) return `${mountPath}/confirm/${token}`;
    if (!this.settled) {
      this.settled = true;
      this.warn(
        'express-consent: a confirmation link was made before the router handled any request, so it starts with /confirm/ ' +
          "(right only for a router mounted at the root); set confirm.baseUrl to the router's public URL",
      );
    }
    return `${this.baseUrl ?? this.mountPath}/confirm/${token}`;
  }
}
