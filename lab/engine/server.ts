import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSchema, execute, GraphQLError, parse, validate, type GraphQLSchema } from "graphql";
import { DockerCli, type DockerExecutor } from "./docker.js";
import { Engine } from "./engine.js";
import type { RequestContext } from "./resolvers/context.js";
import type { CallContext } from "./resolvers/module.js";
import { Query } from "./resolvers/query.js";
import { EngineState } from "./state.js";

const SCHEMA_FILE = join(fileURLToPath(new URL(".", import.meta.url)), "schema.graphql");

/** The Dagger session server: POST /query (GraphQL, Basic auth with the session token), plus lab admin routes. */
export class EngineServer {
  readonly token = randomBytes(24).toString("hex");
  readonly engine: Engine;
  private readonly schema: GraphQLSchema = buildSchema(readFileSync(SCHEMA_FILE, "utf8"));
  private readonly calls = new Map<string, CallContext>();
  private readonly cwdBySocket = new WeakMap<Socket, Promise<string>>();
  private readonly server: Server;

  constructor(labDir: string, opts: { logFile?: string; docker?: DockerExecutor } = {}) {
    const state = new EngineState(labDir, opts.logFile);
    this.engine = new Engine(state, opts.docker ?? new DockerCli(state.dir));
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        // A malformed request must not take the engine down: answer it and keep serving.
        if (!res.headersSent) res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ message: this.engine.state.scrub(`bad request: ${(e as Error).message}`) }] }));
      });
    });
    // SDK clients keep connections open across long pauses (the introspector alone takes seconds) and long execs.
    this.server.keepAliveTimeout = 0;
    this.server.requestTimeout = 0;
  }

  /** Listens on loopback only; port 0 picks a free one. */
  listen(port = 0): Promise<number> {
    return new Promise((resolve) => this.server.listen(port, "127.0.0.1", () => resolve((this.server.address() as { port: number }).port)));
  }

  close(): Promise<void> {
    if (this.engine.docker instanceof DockerCli) this.engine.docker.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private authorised(req: IncomingMessage): { master: boolean; call?: CallContext } | undefined {
    const header = req.headers.authorization ?? "";
    if (!header.startsWith("Basic ")) return undefined;
    const token = Buffer.from(header.slice(6), "base64").toString().replace(/:$/, "");
    const a = Buffer.from(token);
    const b = Buffer.from(this.token);
    if (a.length === b.length && timingSafeEqual(a, b)) return { master: true };
    const call = this.calls.get(token);
    return call ? { master: false, call } : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const auth = this.authorised(req);
    if (!auth) return send(401, { errors: [{ message: "unauthorized: the lab engine needs its session token (DAGGER_SESSION_TOKEN)" }] });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
    const url = req.url ?? "";
    if (url === "/query" && req.method === "POST") return send(200, await this.query(body.query ?? "", { cwd: () => this.clientCwd(req.socket), call: auth.call }));
    if (!auth.master) return send(403, { error: "forbidden" });
    if (url === "/lab/status") return send(200, { pid: process.pid, counters: this.engine.state.counters });
    if (url === "/lab/calls" && req.method === "POST") {
      const token = randomBytes(24).toString("hex");
      this.calls.set(token, { ...(body as CallContext), returned: undefined });
      return send(200, { token });
    }
    if (url.startsWith("/lab/calls/")) {
      const token = url.slice("/lab/calls/".length);
      const call = this.calls.get(token);
      if (req.method === "DELETE") this.calls.delete(token);
      return send(call ? 200 : 404, call ?? { error: "no such call" });
    }
    send(404, { error: `no route ${url}` });
  }

  private async query(source: string, ctx: RequestContext): Promise<unknown> {
    this.engine.state.counters.requestsServed++;
    let document;
    try {
      document = parse(source);
    } catch (e) {
      return { errors: [{ message: (e as Error).message }] };
    }
    const invalid = validate(this.schema, document);
    if (invalid.length) return { errors: invalid.map((e) => ({ message: unsupported(e.message) })) };
    const result = await execute({ schema: this.schema, document, rootValue: new Query(this.engine), contextValue: ctx });
    if (!result.errors) return { data: result.data };
    return {
      data: null,
      errors: result.errors.map((e: GraphQLError) => ({ message: this.engine.state.scrub(e.message), path: e.path, extensions: e.extensions })),
    };
  }

  /** The client's working directory, found through the connecting process (relative host paths resolve against it). */
  private clientCwd(socket: Socket): Promise<string> {
    let cwd = this.cwdBySocket.get(socket);
    if (!cwd) {
      cwd = Promise.resolve().then(() => peerCwd(socket.remotePort ?? 0, socket.localPort ?? 0));
      this.cwdBySocket.set(socket, cwd);
    }
    return cwd;
  }
}

/** Turns graphql-js "unknown field/argument" validation errors into the lab engine's own wording. */
function unsupported(message: string): string {
  const field = /^Cannot query field "(\w+)" on type "(\w+)"/.exec(message);
  if (field) return `${field[2]}.${field[1]} is not supported by the lab engine`;
  const arg = /^Unknown argument "(\w+)" on field "(\w+)\.(\w+)"/.exec(message);
  if (arg) return `${arg[2]}.${arg[3]}(${arg[1]}) is not supported by the lab engine`;
  return message;
}

/** Linux only: loopback peer port -> socket inode (/proc/net/tcp) -> owning process -> its cwd. */
function peerCwd(peerPort: number, serverPort: number): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
  let inode = "";
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1].endsWith(`:${hex(peerPort)}`) && f[2].endsWith(`:${hex(serverPort)}`)) inode = f[9];
    }
  }
  if (inode) {
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      try {
        for (const fd of readdirSync(`/proc/${pid}/fd`)) {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return readlinkSync(`/proc/${pid}/cwd`);
        }
      } catch {
        // processes come and go while we look
      }
    }
  }
  throw new Error("cannot find the client's working directory (is the client on this machine?): pass an absolute path");
}
