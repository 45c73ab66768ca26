import type { Engine } from "../engine.js";

/**
 * Module mode: the objects the SDK's own module runtime (entrypoint, introspector, Register) asks for.
 * Type definitions are immutable data; each `with…` returns a new object, as in Dagger.
 */

export interface ArgDef { name: string; description: string; typeDef: TypeDefData; defaultValue: string | null; defaultPath: string; ignore: string[] }
export interface FunctionDef { name: string; description: string; returnType: TypeDefData; args: ArgDef[] }
export interface TypeDefData {
  kind: string; optional: boolean; name: string; description: string;
  element?: TypeDefData; functions: FunctionDef[]; fields: { name: string; description: string; typeDef: TypeDefData }[]; ctor?: FunctionDef;
}
export interface ModuleData { description: string; objects: TypeDefData[]; enums: TypeDefData[]; interfaces: TypeDefData[] }

/** One function invocation (or the registration call) that a module runtime process serves. */
export interface CallContext {
  moduleName: string;
  sourceDir: string;
  parentName: string;
  fnName: string;
  parentJson: string;
  inputArgs: { name: string; value: string }[];
  returned?: { value: string } | { error: string; values: { name: string; value: string }[] };
  registered?: ModuleData;
}

const EMPTY_TYPE: TypeDefData = { kind: "VOID_KIND", optional: false, name: "", description: "", functions: [], fields: [] };
const kindName = (k: string) => (k.endsWith("_KIND") ? k : `${k}_KIND`);

abstract class Data<T> {
  abstract readonly __typename: string;
  constructor(protected readonly e: Engine, readonly data: T) {}
  id(): string {
    return this.e.state.register(this);
  }
}

export class TypeDefObj extends Data<TypeDefData> {
  readonly __typename = "TypeDef";
  private with(change: Partial<TypeDefData>): TypeDefObj {
    return new TypeDefObj(this.e, { ...this.data, ...change });
  }
  private load<T>(id: string, type: string): T {
    return (this.e.state.load(id, type) as unknown as Data<T>).data;
  }
  kind(): string { return this.data.kind; }
  optional(): boolean { return this.data.optional; }
  name(): string { return this.data.name; }
  asObject(): ObjectTypeDefObj | null { return this.data.kind === "OBJECT_KIND" ? new ObjectTypeDefObj(this.e, this.data) : null; }
  asList(): ListTypeDefObj | null { return this.data.element ? new ListTypeDefObj(this.e, this.data) : null; }
  withKind(a: { kind: string }) { return this.with({ kind: kindName(a.kind) }); }
  withOptional(a: { optional: boolean }) { return this.with({ optional: a.optional }); }
  withScalar(a: { name: string; description: string }) { return this.with({ kind: "SCALAR_KIND", name: a.name, description: a.description }); }
  withListOf(a: { elementType: string }) { return this.with({ kind: "LIST_KIND", element: this.load<TypeDefData>(a.elementType, "TypeDef") }); }
  withObject(a: { name: string; description: string }) { return this.with({ kind: "OBJECT_KIND", name: a.name, description: a.description }); }
  withInterface(a: { name: string; description: string }) { return this.with({ kind: "INTERFACE_KIND", name: a.name, description: a.description }); }
  withEnum(a: { name: string; description: string }) { return this.with({ kind: "ENUM_KIND", name: a.name, description: a.description }); }
  withEnumMember(a: { name: string; description: string }) { return this.with({ fields: [...this.data.fields, { name: a.name, description: a.description, typeDef: EMPTY_TYPE }] }); }
  withField(a: { name: string; typeDef: string; description: string }) {
    return this.with({ fields: [...this.data.fields, { name: a.name, description: a.description, typeDef: this.load<TypeDefData>(a.typeDef, "TypeDef") }] });
  }
  withFunction(a: { function: string }) { return this.with({ functions: [...this.data.functions, this.load<FunctionDef>(a.function, "Function")] }); }
  withConstructor(a: { function: string }) { return this.with({ ctor: this.load<FunctionDef>(a.function, "Function") }); }
}

export class ObjectTypeDefObj extends Data<TypeDefData> {
  readonly __typename = "ObjectTypeDef";
  name(): string { return this.data.name; }
  description(): string { return this.data.description; }
  functions() { return this.data.functions.map((f) => new FunctionObj(this.e, f)); }
  fields() { return this.data.fields.map((f) => ({ __typename: "FieldTypeDef", ...f, typeDef: new TypeDefObj(this.e, f.typeDef), id: () => this.e.state.register(this) })); }
}

export class ListTypeDefObj extends Data<TypeDefData> {
  readonly __typename = "ListTypeDef";
  elementTypeDef() { return new TypeDefObj(this.e, this.data.element ?? EMPTY_TYPE); }
}

export class FunctionObj extends Data<FunctionDef> {
  readonly __typename = "Function";
  private with(change: Partial<FunctionDef>): FunctionObj { return new FunctionObj(this.e, { ...this.data, ...change }); }
  name(): string { return this.data.name; }
  description(): string { return this.data.description; }
  returnType() { return new TypeDefObj(this.e, this.data.returnType); }
  args() {
    return this.data.args.map((a) => ({ __typename: "FunctionArg", ...a, defaultValue: a.defaultValue ?? "null", typeDef: new TypeDefObj(this.e, a.typeDef), id: () => this.e.state.register(this) }));
  }
  withDescription(a: { description: string }) { return this.with({ description: a.description }); }
  withArg(a: { name: string; typeDef: string; description: string; defaultValue?: string | null; defaultPath: string; ignore: string[] }) {
    const typeDef = (this.e.state.load(a.typeDef, "TypeDef") as TypeDefObj).data;
    return this.with({ args: [...this.data.args, { name: a.name, typeDef, description: a.description, defaultValue: a.defaultValue ?? null, defaultPath: a.defaultPath, ignore: a.ignore }] });
  }
  // Source maps, cache policies, deprecation and check/generator/up markers do not change what `lab call` does.
  withSourceMap() { return this; }
  withCachePolicy() { return this; }
  withDeprecated() { return this; }
  withCheck() { return this; }
  withGenerator() { return this; }
  withUp() { return this; }
}

export class ModuleObj extends Data<ModuleData> {
  readonly __typename = "Module";
  constructor(e: Engine, data: ModuleData, private readonly call?: CallContext) { super(e, data); }
  private with(change: Partial<ModuleData>): ModuleObj { return new ModuleObj(this.e, { ...this.data, ...change }, this.call); }
  private type(id: string): TypeDefData { return (this.e.state.load(id, "TypeDef") as TypeDefObj).data; }
  name(): string { return this.call?.moduleName ?? ""; }
  description(): string { return this.data.description; }
  objects() { return this.data.objects.map((o) => new TypeDefObj(this.e, o)); }
  enums() { return this.data.enums.map((o) => new TypeDefObj(this.e, o)); }
  interfaces() { return this.data.interfaces.map((o) => new TypeDefObj(this.e, o)); }
  withDescription(a: { description: string }) { return this.with({ description: a.description }); }
  withObject(a: { object: string }) { return this.with({ objects: [...this.data.objects, this.type(a.object)] }); }
  withEnum(a: { enum: string }) { return this.with({ enums: [...this.data.enums, this.type(a.enum)] }); }
  withInterface(a: { iface: string }) { return this.with({ interfaces: [...this.data.interfaces, this.type(a.iface)] }); }
}

export class SourceMapObj extends Data<{ filename: string; line: number; column: number }> {
  readonly __typename = "SourceMap";
  filename() { return this.data.filename; }
  line() { return this.data.line; }
  column() { return this.data.column; }
}

export class ErrorObj extends Data<{ message: string; values: { name: string; value: string }[] }> {
  readonly __typename = "Error";
  message() { return this.data.message; }
  values() { return this.data.values.map((v) => ({ __typename: "ErrorValue", ...v, id: () => this.e.state.register(this) })); }
  withValue(a: { name: string; value: string }) { return new ErrorObj(this.e, { ...this.data, values: [...this.data.values, a] }); }
}

export class CurrentModuleObj extends Data<CallContext> {
  readonly __typename = "CurrentModule";
  name() { return this.data.moduleName; }
}

export class FunctionCallObj extends Data<CallContext> {
  readonly __typename = "FunctionCall";
  name() { return this.data.fnName; }
  parentName() { return this.data.parentName; }
  parent() { return this.data.parentJson; }
  inputArgs() {
    return this.data.inputArgs.map((a) => {
      const obj = { __typename: "FunctionCallArgValue", ...a, id: (): string => this.e.state.register(obj) };
      return obj;
    });
  }
  returnValue(a: { value: string }): null {
    // Registration returns the module's ID: keep what it registered for `lab functions`.
    if (this.data.parentName === "") {
      const id = JSON.parse(a.value) as string;
      this.data.registered = (this.e.state.load(id, "Module") as ModuleObj).data;
    }
    this.data.returned = { value: a.value };
    return null;
  }
  returnError(a: { error: string }): null {
    const err = (this.e.state.load(a.error, "Error") as ErrorObj).data;
    this.data.returned = { error: err.message, values: err.values };
    return null;
  }
}

export function newTypeDef(e: Engine): TypeDefObj {
  return new TypeDefObj(e, EMPTY_TYPE);
}

export function newFunction(e: Engine, name: string, returnTypeId: string): FunctionObj {
  return new FunctionObj(e, { name, description: "", returnType: (e.state.load(returnTypeId, "TypeDef") as TypeDefObj).data, args: [] });
}
