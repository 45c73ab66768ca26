import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hashTree, listTree } from "./fsutil.js";
import type { CallContext, FunctionDef, ModuleData, TypeDefData } from "./resolvers/module.js";
import type { EngineInfo } from "./service.js";

/**
 * Module mode, as `dagger functions` / `dagger call` do it: the SDK's own runtime (entrypoint + introspector)
 * runs on the module's source against the lab engine, once to register the module and once per function call.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SDK_DIR = join(repoRoot, "node_modules", "@dagger.io", "dagger");

interface ModuleSource { name: string; contextDir: string; sourceDir: string }

function readModule(modDir: string): ModuleSource {
  const config = join(resolve(modDir), "dagger.json");
  if (!existsSync(config)) throw new Error(`no dagger.json in ${resolve(modDir)} (pass --mod DIR)`);
  const json = JSON.parse(readFileSync(config, "utf8")) as { name?: string; source?: string; sdk?: { source?: string } | string };
  const sdk = typeof json.sdk === "string" ? json.sdk : json.sdk?.source;
  if (sdk !== "typescript") throw new Error(`${config}: the lab engine runs TypeScript modules only (sdk is ${JSON.stringify(sdk)})`);
  if (!json.name) throw new Error(`${config}: no module name`);
  const sourceDir = resolve(modDir, json.source ?? ".");
  if (!existsSync(join(sourceDir, "src"))) throw new Error(`${sourceDir}/src: no module source`);
  return { name: json.name, contextDir: resolve(modDir), sourceDir };
}

/**
 * A runnable copy of the module: its src/, its package.json/tsconfig, and a staged SDK in which each .d.ts is
 * also a .ts, since the introspector finds Dagger's core types only in a source file named client.gen.ts
 * (the runtime's vendored SDK has one). node_modules itself is never modified.
 */
function stage(labDir: string, mod: ModuleSource): { dir: string; files: string[] } {
  const dir = join(labDir, "engine", "modules", mod.name);
  const sdk = join(dir, "node_modules", "@dagger.io", "dagger");
  const sdkVersion = (JSON.parse(readFileSync(join(SDK_DIR, "package.json"), "utf8")) as { version: string }).version;
  if (!existsSync(join(sdk, `.staged-${sdkVersion}`))) {
    rmSync(dir, { recursive: true, force: true });
    cpSync(SDK_DIR, sdk, { recursive: true });
    const walk = (d: string) => {
      for (const n of readdirSync(d, { withFileTypes: true })) {
        if (n.isDirectory()) walk(join(d, n.name));
        else if (n.name.endsWith(".d.ts")) cpSync(join(d, n.name), join(d, n.name.replace(/\.d\.ts$/, ".ts")));
      }
    };
    walk(join(sdk, "dist"));
    const pkg = JSON.parse(readFileSync(join(sdk, "package.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(sdk, "package.json"), JSON.stringify({ ...pkg, types: "./dist/src/index.ts" }, null, 2));
    // Every other dependency resolves to the project's own install.
    for (const root of [join(repoRoot, "node_modules"), join(mod.sourceDir, "node_modules")]) {
      if (!existsSync(root)) continue;
      for (const n of readdirSync(root)) {
        const scoped = n.startsWith("@") ? readdirSync(join(root, n)).map((s) => `${n}/${s}`) : [n];
        for (const name of scoped) {
          const link = join(dir, "node_modules", name);
          if (name === "@dagger.io/dagger" || existsSync(link)) continue;
          mkdirSync(dirname(link), { recursive: true });
          symlinkSync(join(root, name), link);
        }
      }
    }
    writeFileSync(join(sdk, `.staged-${sdkVersion}`), "");
  }
  rmSync(join(dir, "src"), { recursive: true, force: true });
  cpSync(join(mod.sourceDir, "src"), join(dir, "src"), { recursive: true });
  for (const f of ["package.json", "tsconfig.json"]) {
    if (existsSync(join(mod.sourceDir, f))) cpSync(join(mod.sourceDir, f), join(dir, f));
  }
  if (!existsSync(join(dir, "package.json"))) writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  if (!existsSync(join(dir, "tsconfig.json"))) writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { experimentalDecorators: true, module: "NodeNext", target: "ES2022" } }));
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      if (n.isDirectory()) walk(join(d, n.name));
      else if (/\.m?ts$/.test(n.name) && !n.name.endsWith(".d.ts")) files.push(join(d, n.name));
    }
  };
  walk(join(dir, "src"));
  writeFileSync(join(dir, "entrypoint.mts"), [
    `import { entrypoint } from ${JSON.stringify(join(sdk, "dist", "src", "module", "entrypoint", "entrypoint.js"))};`,
    `await entrypoint(${JSON.stringify(files)});`,
  ].join("\n"));
  return { dir, files };
}

async function admin(engine: EngineInfo, path: string, method: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${engine.port}${path}`, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Basic ${Buffer.from(`${engine.token}:`).toString("base64")}`, "content-type": "application/json" },
  });
  if (!res.ok) throw new Error(`lab engine ${method} ${path}: HTTP ${res.status}`);
  return res.json();
}

/** One run of the module runtime serving one call; returns the call as the runtime left it. */
async function runRuntime(engine: EngineInfo, staged: { dir: string }, call: Omit<CallContext, "returned" | "registered">): Promise<CallContext> {
  const { token } = (await admin(engine, "/lab/calls", "POST", call)) as { token: string };
  try {
    const child = spawn(process.execPath, ["--import", "tsx", join(staged.dir, "entrypoint.mts")], {
      cwd: staged.dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DAGGER_SESSION_PORT: String(engine.port), DAGGER_SESSION_TOKEN: token, TSX_TSCONFIG_PATH: join(staged.dir, "tsconfig.json") },
    });
    // The runtime's own output goes to stderr, so stdout carries only the result.
    child.stdout.pipe(process.stderr, { end: false });
    child.stderr.pipe(process.stderr, { end: false });
    const code = await new Promise<number | null>((res, rej) => { child.on("error", rej); child.on("close", (c) => res(c)); });
    const result = (await admin(engine, `/lab/calls/${token}`, "GET")) as CallContext;
    if (!result.returned) throw new Error(`the module runtime exited (code ${code}) without returning a result; its output is above`);
    return result;
  } finally {
    await admin(engine, `/lab/calls/${token}`, "DELETE").catch(() => undefined);
  }
}

/** Registers the module (the runtime's registration call), reusing the result while its source is unchanged, as Dagger does. */
async function register(engine: EngineInfo, labDir: string, modDir: string): Promise<{ mod: ModuleSource; staged: { dir: string }; module: ModuleData }> {
  const mod = readModule(modDir);
  const staged = stage(labDir, mod);
  const digest = hashTree(staged.dir, listTree(staged.dir, (rel) => rel.startsWith("src/") || rel === "package.json" || rel === "tsconfig.json"));
  const record = join(staged.dir, `registered-${digest.slice(0, 32)}.json`);
  if (existsSync(record)) return { mod, staged, module: JSON.parse(readFileSync(record, "utf8")) as ModuleData };
  const call = await runRuntime(engine, staged, { moduleName: mod.name, sourceDir: mod.sourceDir, parentName: "", fnName: "", parentJson: "{}", inputArgs: [] });
  if ("error" in call.returned! || !call.registered) throw new Error(`registering ${mod.name} failed: ${"error" in call.returned! ? call.returned.error : "no module returned"}`);
  writeFileSync(record, JSON.stringify(call.registered));
  return { mod, staged, module: call.registered };
}

const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

function typeName(t: TypeDefData): string {
  const base = t.kind === "LIST_KIND" && t.element ? `[${typeName(t.element)}]` : t.name || t.kind.replace(/_KIND$/, "").toLowerCase().replace(/^./, (c) => c.toUpperCase());
  return base;
}

/** What `dagger functions` shows, for every object the module registered. */
export async function listFunctions(engine: EngineInfo, labDir: string, modDir: string): Promise<string> {
  const { module } = await register(engine, labDir, modDir);
  const lines: string[] = [];
  for (const obj of module.objects) {
    lines.push(`${obj.name}${obj.description ? ` — ${obj.description.replace(/\s+/g, " ")}` : ""}`);
    for (const fn of obj.functions) {
      lines.push(`  ${kebab(fn.name)}: ${typeName(fn.returnType)}${fn.description ? `  ${fn.description.replace(/\s+/g, " ")}` : ""}`);
      for (const a of fn.args) {
        const notes = [a.typeDef.optional || a.defaultValue != null || a.defaultPath ? "optional" : "required"];
        if (a.defaultValue != null) notes.push(`default ${a.defaultValue}`);
        if (a.defaultPath) notes.push(`default path ${JSON.stringify(a.defaultPath)}`);
        lines.push(`      --${kebab(a.name)} ${typeName(a.typeDef)} (${notes.join(", ")})${a.description ? `  ${a.description.replace(/\s+/g, " ")}` : ""}`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Sends one GraphQL query as the client of this CLI process (so host paths resolve against our cwd). */
async function gql(engine: EngineInfo, query: string): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${engine.port}/query`, {
    method: "POST", body: JSON.stringify({ query }),
    headers: { authorization: `Basic ${Buffer.from(`${engine.token}:`).toString("base64")}`, "content-type": "application/json" },
  });
  const body = (await res.json()) as { data?: unknown; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors[0].message);
  let value = body.data;
  while (value && typeof value === "object" && !Array.isArray(value)) value = Object.values(value)[0];
  return value;
}

/** A command-line word as the JSON value a function argument of this type takes. */
async function argValue(engine: EngineInfo, t: TypeDefData, raw: string): Promise<unknown> {
  const q = JSON.stringify;
  switch (t.kind) {
    case "INTEGER_KIND": case "FLOAT_KIND": {
      if (Number.isNaN(Number(raw))) throw new Error(`${q(raw)} is not a number`);
      return Number(raw);
    }
    case "BOOLEAN_KIND": return raw !== "false";
    case "LIST_KIND": return Promise.all(raw.split(",").map((r) => argValue(engine, t.element!, r)));
    case "OBJECT_KIND": {
      const path = resolve(raw); // host paths are relative to where `lab call` runs
      if (t.name === "Directory") return gql(engine, `{ host { directory(path: ${q(path)}) { id } } }`);
      if (t.name === "File") return gql(engine, `{ host { file(path: ${q(path)}) { id } } }`);
      if (t.name === "Container") return gql(engine, `{ container { from(address: ${q(raw)}) { id } } }`);
      if (t.name === "Secret") {
        const m = /^env:(.+)$/.exec(raw);
        if (!m || process.env[m[1]] === undefined) throw new Error(`a Secret argument takes env:NAME of a set variable (got ${q(raw.replace(/:.*/, ":…"))})`);
        return gql(engine, `{ setSecret(name: ${q(m[1])}, plaintext: ${q(process.env[m[1]])}) { id } }`);
      }
      throw new Error(`arguments of type ${t.name} cannot be given on the command line`);
    }
    default: return raw;
  }
}

/** How a Container, Directory or File result is written to the host (`export --path P`, or the `--export P` alias). */
export interface ExportRequest { path: string; wipe?: boolean; allowParentDirPath?: boolean }

const CORE_RESULTS = ["Container", "Directory", "File"];

/** The flags of a chained `export`, as `dagger call … export --path P [--wipe] [--allow-parent-dir-path]` takes them. */
function exportFlags(words: string[], on: string): ExportRequest {
  const allowed: Record<string, string[]> = { Container: ["path"], Directory: ["path", "wipe"], File: ["path", "allow-parent-dir-path"] };
  const req: Partial<ExportRequest> = {};
  while (words.length) {
    const word = words.shift()!;
    if (!word.startsWith("--")) throw new Error(`export: unexpected ${JSON.stringify(word)} (export ends the chain; it takes --${allowed[on].join(", --")})`);
    const [name, inline] = word.includes("=") ? [word.slice(2, word.indexOf("=")), word.slice(word.indexOf("=") + 1)] : [word.slice(2), undefined];
    if (!allowed[on].includes(name)) throw new Error(`export on a ${on} has no argument --${name} (arguments: --${allowed[on].join(", --")})`);
    if (name === "path") {
      const value = inline ?? words.shift();
      if (!value || value.startsWith("--")) throw new Error("export: --path needs a PATH");
      req.path = value;
    } else {
      const flag = inline ?? (words[0] === "true" || words[0] === "false" ? words.shift() : "true");
      if (name === "wipe") req.wipe = flag !== "false";
      else req.allowParentDirPath = flag !== "false";
    }
  }
  if (!req.path) throw new Error(`export: --path is required (where to write the ${on})`);
  return req as ExportRequest;
}

/** `dagger call`: FN [--arg value]… [FN2 …] [export --path PATH] on the module's main object; `--export PATH` is an alias. */
export async function callFunction(engine: EngineInfo, labDir: string, modDir: string, words: string[]): Promise<string> {
  words = [...words];
  const exportAt = words.indexOf("--export");
  let exportReq: ExportRequest | undefined;
  if (exportAt >= 0) {
    const path = words[exportAt + 1];
    if (!path || path.startsWith("--")) throw new Error("--export needs a PATH");
    exportReq = { path };
    words = [...words.slice(0, exportAt), ...words.slice(exportAt + 2)];
  }
  const { mod, staged, module } = await register(engine, labDir, modDir);
  const objects = new Map(module.objects.map((o) => [o.name, o]));
  const mainName = mod.name.split(/[-_\s]+/).map((w) => w[0].toUpperCase() + w.slice(1)).join("");
  let current = objects.get(mainName);
  if (!current) throw new Error(`module ${mod.name} registered no object ${mainName}`);
  let parentJson = "{}";
  if (current.ctor) parentJson = await invoke(engine, staged, mod, current.name, "", parentJson, []);
  let result: { type: TypeDefData; json: string } | undefined;
  while (words.length) {
    const word = words.shift()!;
    if (!current && word === "export" && result && result.type.kind === "OBJECT_KIND" && CORE_RESULTS.includes(result.type.name)) {
      if (exportReq) throw new Error("give either `export --path PATH` or `--export PATH`, not both");
      exportReq = exportFlags(words, result.type.name);
      break;
    }
    if (!current) {
      const core = result && result.type.kind === "OBJECT_KIND" && CORE_RESULTS.includes(result.type.name);
      throw new Error(`cannot chain ${word} after a ${result ? typeName(result.type) : "value"}${core ? " (lab call chains only `export --path PATH` on it)" : ""}`);
    }
    const fn: FunctionDef | undefined = current.functions.find((f) => kebab(f.name) === word || f.name === word);
    // Like `dagger call`, an object's fields are callable too: their values are in the object's JSON.
    const field: TypeDefData["fields"][number] | undefined = fn ? undefined : current.fields.find((f) => kebab(f.name) === word || f.name === word);
    if (field) {
      const fields = JSON.parse(parentJson) as Record<string, unknown>;
      if (!(field.name in fields)) throw new Error(`${current.name}.${word}: the object carries no value for this field`);
      result = { type: field.typeDef, json: JSON.stringify(fields[field.name]) };
      current = field.typeDef.kind === "OBJECT_KIND" ? objects.get(field.typeDef.name) : undefined;
      parentJson = result.json;
      continue;
    }
    if (!fn) throw new Error(`${current.name} has no function ${word} (functions: ${current.functions.map((f) => kebab(f.name)).join(", ")})`);
    const given = new Map<string, string>();
    while (words.length && words[0].startsWith("--")) {
      const flag = words.shift()!.slice(2);
      const [name, inline] = flag.includes("=") ? [flag.slice(0, flag.indexOf("=")), flag.slice(flag.indexOf("=") + 1)] : [flag, undefined];
      const arg = fn.args.find((a) => kebab(a.name) === name || a.name === name);
      if (!arg) throw new Error(`${word} has no argument --${name} (arguments: ${fn.args.map((a) => `--${kebab(a.name)}`).join(", ") || "none"})`);
      const value = inline ?? (arg.typeDef.kind === "BOOLEAN_KIND" && (!words[0] || words[0].startsWith("--")) ? "true" : words.shift());
      if (value === undefined) throw new Error(`--${name} needs a value`);
      given.set(arg.name, given.has(arg.name) ? `${given.get(arg.name)},${value}` : value);
    }
    const inputArgs: { name: string; value: string }[] = [];
    for (const a of fn.args) {
      const raw = given.get(a.name);
      if (raw !== undefined) inputArgs.push({ name: a.name, value: JSON.stringify(await argValue(engine, a.typeDef, raw)) });
      else if (a.defaultPath) inputArgs.push({ name: a.name, value: JSON.stringify(await defaultPathArg(engine, a, mod.contextDir)) });
      else if (!a.typeDef.optional && a.defaultValue == null) throw new Error(`${word}: --${kebab(a.name)} is required (${typeName(a.typeDef)})`);
    }
    const json = await invoke(engine, staged, mod, current.name, fn.name, parentJson, inputArgs);
    result = { type: fn.returnType, json };
    current = fn.returnType.kind === "OBJECT_KIND" ? objects.get(fn.returnType.name) : undefined;
    parentJson = json;
  }
  if (!result) throw new Error("name a function to call (see portcullis lab functions)");
  return present(engine, result, exportReq);
}

async function defaultPathArg(engine: EngineInfo, a: { typeDef: TypeDefData; defaultPath: string; ignore: string[] }, contextDir: string): Promise<unknown> {
  const path = join(contextDir, a.defaultPath);
  const q = JSON.stringify;
  if (a.typeDef.name === "File") return gql(engine, `{ host { file(path: ${q(path)}) { id } } }`);
  return gql(engine, `{ host { directory(path: ${q(path)}, exclude: ${q(a.ignore)}) { id } } }`);
}

async function invoke(engine: EngineInfo, staged: { dir: string }, mod: ModuleSource, parentName: string, fnName: string, parentJson: string, inputArgs: { name: string; value: string }[]): Promise<string> {
  const call = await runRuntime(engine, staged, { moduleName: mod.name, sourceDir: mod.sourceDir, parentName, fnName, parentJson, inputArgs });
  const returned = call.returned!;
  if ("error" in returned) {
    const details = returned.values.map((v) => `${v.name}: ${String(JSON.parse(v.value)).trim()}`).join("\n");
    throw new Error(`${kebab(fnName) || "constructor"} failed: ${returned.error}${details ? `\n${details}` : ""}`);
  }
  return returned.value;
}

/** Prints a result as `dagger call` would: scalars as text, core objects evaluated, or exported (printing the path written). */
async function present(engine: EngineInfo, result: { type: TypeDefData; json: string }, exportReq?: ExportRequest): Promise<string> {
  const value = JSON.parse(result.json) as unknown;
  const core = result.type.kind === "OBJECT_KIND" && CORE_RESULTS.includes(result.type.name);
  const q = JSON.stringify;
  if (exportReq) {
    if (!core) throw new Error(`export needs a Container, Directory or File result, not ${typeName(result.type)}`);
    const extra = exportReq.wipe ? ", wipe: true" : exportReq.allowParentDirPath ? ", allowParentDirPath: true" : "";
    const exported = await gql(engine, `{ load${result.type.name}FromID(id: ${q(value)}) { export(path: ${q(resolve(exportReq.path))}${extra}) } }`);
    return String(exported);
  }
  if (result.type.name === "File") return String(await gql(engine, `{ loadFileFromID(id: ${q(value)}) { contents } }`));
  if (result.type.name === "Directory") return (await gql(engine, `{ loadDirectoryFromID(id: ${q(value)}) { entries } }`) as string[]).join("\n");
  if (result.type.name === "Container") {
    await gql(engine, `{ loadContainerFromID(id: ${q(value)}) { sync } }`);
    return "Container evaluated (chain `export --path PATH` to write its image tarball)";
  }
  if (result.type.kind === "OBJECT_KIND") return JSON.stringify(value, null, 2);
  if (Array.isArray(value)) return value.join("\n");
  return value === null || value === undefined ? "" : String(value);
}
