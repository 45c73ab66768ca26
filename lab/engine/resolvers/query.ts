import { chmodSync, writeFileSync } from "node:fs";
import type { Engine } from "../engine.js";
import { keyOf } from "../state.js";
import { Container } from "./container.js";
import type { RequestContext } from "./context.js";
import { Directory } from "./directory.js";
import { File } from "./file.js";
import { Host } from "./host.js";
import { CurrentModuleObj, ErrorObj, FunctionCallObj, ModuleObj, SourceMapObj, newFunction, newTypeDef } from "./module.js";
import { CacheVolume, Secret } from "./secret.js";

export const ENGINE_VERSION = "v0.21.9";

/** The root Query type. Every `loadXFromID` and `node(id)` resolves the opaque IDs the engine issued. */
export class Query {
  constructor(private readonly e: Engine) {}

  version(): string { return ENGINE_VERSION; }
  container(): Container { return Container.scratch(this.e); }
  directory(): Directory { return Directory.empty(this.e); }
  host(): Host { return new Host(this.e); }
  cacheVolume(a: { key: string }): CacheVolume { return new CacheVolume(this.e, a.key); }
  setSecret(a: { name: string; plaintext: string }): Secret { return new Secret(this.e, a.name, a.plaintext); }

  file(a: { name: string; contents: string; permissions: number }): File {
    return fileOf(this.e, a);
  }

  node(a: { id: string }) { return this.e.state.load(a.id); }
  loadContainerFromID(a: { id: string }) { return this.e.state.load(a.id, "Container"); }
  loadDirectoryFromID(a: { id: string }) { return this.e.state.load(a.id, "Directory"); }
  loadFileFromID(a: { id: string }) { return this.e.state.load(a.id, "File"); }
  loadSecretFromID(a: { id: string }) { return this.e.state.load(a.id, "Secret"); }
  loadCacheVolumeFromID(a: { id: string }) { return this.e.state.load(a.id, "CacheVolume"); }
  loadHostFromID(a: { id: string }) { return this.e.state.load(a.id, "Host"); }
  loadModuleFromID(a: { id: string }) { return this.e.state.load(a.id, "Module"); }
  loadTypeDefFromID(a: { id: string }) { return this.e.state.load(a.id, "TypeDef"); }
  loadFunctionFromID(a: { id: string }) { return this.e.state.load(a.id, "Function"); }
  loadFunctionCallFromID(a: { id: string }) { return this.e.state.load(a.id, "FunctionCall"); }
  loadErrorFromID(a: { id: string }) { return this.e.state.load(a.id, "Error"); }
  loadSourceMapFromID(a: { id: string }) { return this.e.state.load(a.id, "SourceMap"); }

  private call(field: string, ctx: RequestContext) {
    if (!ctx.call) throw new Error(`Query.${field}: only a module runtime started by \`portcullis lab call\` or \`lab functions\` has a current module`);
    return ctx.call;
  }
  currentModule(_: unknown, ctx: RequestContext) { return new CurrentModuleObj(this.e, this.call("currentModule", ctx)); }
  currentFunctionCall(_: unknown, ctx: RequestContext) { return new FunctionCallObj(this.e, this.call("currentFunctionCall", ctx)); }
  module(_: unknown, ctx: RequestContext) { return new ModuleObj(this.e, { description: "", objects: [], enums: [], interfaces: [] }, ctx.call); }
  typeDef() { return newTypeDef(this.e); }
  function(a: { name: string; returnType: string }) { return newFunction(this.e, a.name, a.returnType); }
  sourceMap(a: { filename: string; line: number; column: number }) { return new SourceMapObj(this.e, a); }
  error(a: { message: string }) { return new ErrorObj(this.e, { message: a.message, values: [] }); }
}

function fileOf(e: Engine, a: { name: string; contents: string; permissions: number }): File {
  const key = keyOf("Query.file", a);
  const holder = Directory.snapshot(e, key, `file ${a.name}`, (tmp) => {
    writeFileSync(`${tmp}/${a.name}`, a.contents);
    chmodSync(`${tmp}/${a.name}`, a.permissions);
  });
  return new File(e, key, a.name, async () => `${await holder.path()}/${a.name}`);
}
