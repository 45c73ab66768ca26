/** Small pure helpers for the module's effectful files: no `dag`, no I/O, unit-tested on their own. */

/** One `NAME=value` build argument, as `Directory.dockerBuild` takes it. */
export interface BuildArgument {
  name: string;
  value: string;
}

/** Parses `NAME=value` strings; a malformed one is a clear error naming it (the value may contain `=`). */
export function parseBuildArgs(buildArgs: readonly string[]): BuildArgument[] {
  return buildArgs.map((arg) => {
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`build argument "${arg}" is not NAME=value (NAME: letters, digits and _)`);
    }
    return { name, value: arg.slice(eq + 1) };
  });
}

/**
 * The registry host of an image address, as `withRegistryAuth` wants it: the first path
 * component when it looks like a host (has a dot or a port, or is localhost), else Docker Hub.
 */
export function registryHost(address: string): string {
  const withoutDigest = address.split("@")[0]!;
  const slash = withoutDigest.indexOf("/");
  if (slash > 0) {
    const first = withoutDigest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") return first;
  }
  return "docker.io";
}

/** A cache volume name for a Trivy DB source: the default source keeps Dagger's usual name. */
export function trivyDbCacheKey(dbRepository?: string): string {
  if (!dbRepository) return "trivy-db";
  // Volumes are per source so a mirror's DB never silently stands in for another's.
  return `trivy-db-${dbRepository.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-")}`;
}

/** The last `lines` non-empty lines of a tool's log: enough to say why it failed, short enough for one report line. */
export function tail(text: string, lines = 15): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-lines)
    .join("\n");
}

/** What an engine call threw, as text: an exec error carries the command's own output, which says more than its message. */
export function describeEngineError(err: unknown): { message: string; output: string } {
  if (err && typeof err === "object") {
    const e = err as { message?: unknown; stdout?: unknown; stderr?: unknown; exitCode?: unknown };
    let message = typeof e.message === "string" ? firstLine(e.message) : String(err);
    // The SDK wraps transport failures (engine gone, connection refused): the cause says which.
    const cause = (err as { cause?: { message?: unknown } }).cause;
    if (cause && typeof cause.message === "string" && !message.includes(cause.message)) message += ` (${firstLine(cause.message)})`;
    const output = [e.stdout, e.stderr].filter((s): s is string => typeof s === "string" && s.length > 0).join("\n");
    return { message, output: output || (typeof e.message === "string" ? e.message : "") };
  }
  return { message: String(err), output: String(err) };
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0]!.trim();
}

/** A time span of one stage, in epoch milliseconds. */
export interface Span {
  startedAt: number;
  endedAt: number;
}

/** How long two spans ran at the same time, in ms (0 when they did not overlap). */
export function overlapMs(a: Span, b: Span): number {
  return Math.max(0, Math.min(a.endedAt, b.endedAt) - Math.max(a.startedAt, b.startedAt));
}

/** Parses an optional ISO date for "now" (reproducible reports); a bad one is a clear error. */
export function parseNow(now?: string): Date {
  if (now === undefined || now === "") return new Date();
  const date = new Date(now);
  if (Number.isNaN(date.getTime())) throw new Error(`now "${now}" is not an ISO-8601 date (e.g. 2026-11-28 or 2026-11-28T17:00:00Z)`);
  return date;
}
