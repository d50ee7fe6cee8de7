import { isLocalPath } from './local-url';

/**
 * Links of confirmation tokens: under `confirm.baseUrl`, else under the path the router is
 * mounted at (`req.baseUrl`, recorded as it handles requests), never under the Host header.
 */
export class ConfirmLinks {
  private mountPath = '';

  constructor(private readonly baseUrl: string | null) {}

  /**
   * Records the router's mount path. A mount path with a parameter takes its text from the
   * request: one that could lead off-site is not kept.
   */
  remember(path: string): void {
    // Called for every request the router handles: the same path is not checked again.
    if (path === this.mountPath) return;
    if (path === '' || isLocalPath(path)) this.mountPath = path;
  }

  /** The link of a token ('' stands for the mount path until the router has seen a request). */
  url(token: string): string {
    return `${this.baseUrl ?? this.mountPath}/confirm/${token}`;
  }
}
