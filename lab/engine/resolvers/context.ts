import type { CallContext } from "./module.js";

/** Per-request context: the client's working directory (relative host paths resolve against it, as in a
 * Dagger CLI session) and, for a module runtime process, the function call it serves. */
export interface RequestContext {
  cwd(): Promise<string>;
  call?: CallContext;
}
