import { hostname } from "node:os";
import { ExecError, GraphQLRequestError, ReturnType } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE, removeLab, requireImage, startEngine, withClient, type TestEngine } from "./helpers.js";

// Conformance of the lab engine with Dagger v0.21 semantics, through the real SDK as the client.
let engine: TestEngine;

beforeAll(async () => {
  requireImage(BASE);
  engine = await startEngine();
});

afterAll(async () => {
  await engine.stop();
  removeLab(engine.labDir);
});

describe("laziness and IDs", () => {
  it("building a chain and asking for its id executes nothing", async () => {
    const before = { ...engine.counters };
    const id = await withClient((c) => c.container().from(BASE).withEnvVariable("A", "1").withExec(["touch", "/lazy"]).withExec(["false"]).id());
    expect(id).toMatch(/^lab:Container:/);
    expect(engine.counters.containersRun).toBe(before.containersRun);
    expect(engine.counters.stepsExecuted).toBe(before.stepsExecuted);
  });

  it("IDs are opaque, carry no secret, and resolve in later requests via loadXFromID and node(id)", async () => {
    const plaintext = "id-test-plaintext-7d1e";
    const { ctrId, secretId } = await withClient(async (c) => {
      const secret = c.setSecret("token", plaintext);
      const ctr = c.container().from(BASE).withSecretVariable("TOKEN", secret).withExec(["echo", "from-an-id"]);
      return { ctrId: await ctr.id(), secretId: await secret.id() };
    });
    for (const id of [ctrId, secretId]) {
      expect(id).not.toContain(plaintext);
      expect(id).not.toContain("from-an-id");
    }
    // A new session (new request stream) resolves the IDs issued by the first one.
    const out = await withClient((c) => c.loadContainerFromID(ctrId as never).stdout());
    expect(out).toBe("from-an-id\n");
    expect(await withClient((c) => c.loadSecretFromID(secretId as never).plaintext())).toBe(plaintext);
    // sync() returns an ID and the SDK continues through node(id) with an inline fragment.
    const synced = await withClient(async (c) => (await c.container().from(BASE).withExec(["echo", "synced"]).sync()).stdout());
    expect(synced).toBe("synced\n");
  });
});

describe("container.from and withExec", () => {
  it("runs args as given (no shell), ignores the entrypoint unless asked", async () => {
    const [literal, withEp, withoutEp] = await withClient(async (c) => {
      const base = c.container().from(BASE).withEntrypoint(["echo", "entry"]);
      return Promise.all([
        base.withExec(["echo", "$HOME", "a b"]).stdout(),
        base.withExec(["point"], { useEntrypoint: true }).stdout(),
        base.withExec(["echo", "plain"]).stdout(),
      ]);
    });
    expect(literal).toBe("$HOME a b\n");
    expect(withEp).toBe("entry point\n");
    expect(withoutEp).toBe("plain\n");
  });

  it("stdout, stderr, exitCode and redirects", async () => {
    const r = await withClient(async (c) => {
      const ctr = c.container().from(BASE).withExec(["sh", "-c", "echo out; echo err >&2"]);
      const redirected = c.container().from(BASE).withExec(["sh", "-c", "echo to-file; echo e >&2"], { redirectStdout: "/tmp/out.txt", redirectStderr: "/tmp/err.txt" });
      return {
        stdout: await ctr.stdout(), stderr: await ctr.stderr(), exitCode: await ctr.exitCode(),
        file: await redirected.file("/tmp/out.txt").contents(), errFile: await redirected.file("/tmp/err.txt").contents(), redirectedStdout: await redirected.stdout(),
      };
    });
    expect(r).toEqual({ stdout: "out\n", stderr: "err\n", exitCode: 0, file: "to-file\n", errFile: "e\n", redirectedStdout: "" });
  });

  it("a failed exec under the default expect throws ExecError with cmd, exit code and output", async () => {
    const err = await withClient((c) => c.container().from(BASE).withExec(["sh", "-c", "echo partial; echo broken >&2; exit 3"]).sync()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    const exec = err as ExecError;
    expect(exec.exitCode).toBe(3);
    expect(exec.stdout).toBe("partial\n");
    expect(exec.stderr).toBe("broken\n");
    expect(exec.cmd).toEqual(["sh", "-c", "echo partial; echo broken >&2; exit 3"]);
    expect(exec.message).toContain("exit code: 3");
  });

  it("expect ANY returns the exit code; FAILURE rejects a success", async () => {
    const code = await withClient((c) => c.container().from(BASE).withExec(["sh", "-c", "exit 4"], { expect: ReturnType.Any }).exitCode());
    expect(code).toBe(4);
    const err = await withClient((c) => c.container().from(BASE).withExec(["true"], { expect: ReturnType.Failure }).sync()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).exitCode).toBe(0);
  });

  it("from() of an image the daemon lacks fails loudly: the lab cannot pull", async () => {
    const err = await withClient((c) => c.container().from("registry.invalid/nope:1").sync()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphQLRequestError);
    expect((err as Error).message).toMatch(/not in the local Docker daemon.*cannot pull/);
  });
});

describe("container state", () => {
  it("env (with expand), workdir, user, entrypoint, default args, labels, exposed ports", async () => {
    const r = await withClient(async (c) => {
      const ctr = c.container().from(BASE)
        .withEnvVariable("GREETING", "hello")
        .withEnvVariable("MESSAGE", "${GREETING} world", { expand: true })
        .withEnvVariable("GONE", "x").withoutEnvVariable("GONE")
        .withWorkdir("/srv/app").withWorkdir("sub")
        .withUser("nobody")
        .withEntrypoint(["/bin/true"]).withDefaultArgs(["--flag"])
        .withLabel("org.example.team", "sec")
        .withExposedPort(8080);
      const run = ctr.withExec(["sh", "-c", 'echo "$MESSAGE|${GONE:-unset}|$(pwd)|$(id -un)"']);
      return {
        out: await run.stdout(), env: await ctr.envVariable("MESSAGE"), gone: await ctr.envVariable("GONE"), workdir: await ctr.workdir(), user: await ctr.user(),
        entrypoint: await ctr.entrypoint(), args: await ctr.defaultArgs(), label: await ctr.label("org.example.team"),
        ports: await Promise.all((await ctr.exposedPorts()).map((p) => p.port())),
      };
    });
    expect(r.out).toBe("hello world|unset|/srv/app/sub|nobody\n");
    expect(r).toMatchObject({ env: "hello world", gone: null, workdir: "/srv/app/sub", user: "nobody", entrypoint: ["/bin/true"], args: ["--flag"], label: "sec", ports: [8080] });
  });
});

describe("the session", () => {
  it("answers an unimplemented field with an error naming it", async () => {
    const err = await withClient((c) => c.container().from(BASE).withAnnotation("a", "b").sync()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphQLRequestError);
    expect((err as Error).message).toBe("Container.withAnnotation is not supported by the lab engine");
    const arg = await withClient((c) => c.container().from(BASE).withExec(["cat"], { stdin: "x" }).sync()).catch((e: unknown) => e);
    expect((arg as Error).message).toBe("Container.withExec(stdin) is not supported by the lab engine");
  });

  it("refuses requests without the session token (401)", async () => {
    const bad = await fetch(`http://127.0.0.1:${engine.port}/query`, { method: "POST", body: JSON.stringify({ query: "{ version }" }) });
    expect(bad.status).toBe(401);
    const wrong = await fetch(`http://127.0.0.1:${engine.port}/query`, {
      method: "POST", body: JSON.stringify({ query: "{ version }" }), headers: { authorization: `Basic ${Buffer.from("guess:").toString("base64")}` },
    });
    expect(wrong.status).toBe(401);
  });

  it("answers a malformed request with 400 and keeps serving", async () => {
    const auth = { authorization: `Basic ${Buffer.from(`${engine.server.token}:`).toString("base64")}` };
    const bad = await fetch(`http://127.0.0.1:${engine.port}/query`, { method: "POST", body: "{not json", headers: auth });
    expect(bad.status).toBe(400);
    expect(await withClient((c) => c.version())).toBe("v0.21.9");
  });

  it("is loopback only: containers share the host network and reach the engine on 127.0.0.1", async () => {
    const out = await withClient((c) => c.container().from(BASE)
      .withExec(["bash", "-c", `hostname; exec 3<>/dev/tcp/127.0.0.1/${engine.port} && echo reached`]).stdout());
    expect(out).toBe(`${hostname()}\nreached\n`);
  });
});
