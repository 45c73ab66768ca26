/**
 * Reads the portcullis module's Dagger API (objects, functions, arguments, return types) from its
 * TypeScript source with the compiler's type checker — what `dagger functions` would list — so the
 * GitHub action's `dagger call` lines can be checked against it without an engine.
 */
import ts from "typescript";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const MODULE_ENTRY = resolve(REPO_ROOT, "dagger/src/index.ts");

export interface ModuleArgument {
  /** The TypeScript parameter name (`dbRepository`); the CLI flag is its kebab-case (`--db-repository`). */
  name: string;
  /** The type without `undefined`: `string`, `string[]`, `Directory`, `File`, `Secret`, `Container`… */
  type: string;
  /** True when `dagger call` may leave it out (optional, or has a default). */
  optional: boolean;
}

export interface ModuleFunction {
  name: string;
  args: ModuleArgument[];
  /** The awaited return type's name (`PipelineRun`, `Directory`, `string`). */
  returns: string;
}

/** Functions per type: the module's `@object()` classes and the Dagger core types they return. */
export type ModuleApi = Map<string, Map<string, ModuleFunction>>;

function hasDecorator(node: ts.Node, name: string): boolean {
  if (!ts.canHaveDecorators(node)) return false;
  return (ts.getDecorators(node) ?? []).some((d) => {
    const expr = ts.isCallExpression(d.expression) ? d.expression.expression : d.expression;
    return ts.isIdentifier(expr) && expr.text === name;
  });
}

function typeName(checker: ts.TypeChecker, type: ts.Type): string {
  return checker.typeToString(checker.getNonNullableType(type));
}

function returnTypeName(checker: ts.TypeChecker, signature: ts.Signature): string {
  const returned = checker.getReturnTypeOfSignature(signature);
  return typeName(checker, checker.getAwaitedType(returned) ?? returned);
}

/** `@argument({ defaultPath: … })`: Dagger fills the argument from the module's context, so callers may omit it. */
function hasDefaultPath(param: ts.ParameterDeclaration): boolean {
  return (ts.canHaveDecorators(param) ? (ts.getDecorators(param) ?? []) : []).some((d) => {
    if (!ts.isCallExpression(d.expression) || !ts.isIdentifier(d.expression.expression) || d.expression.expression.text !== "argument") return false;
    const options = d.expression.arguments[0];
    return options !== undefined && ts.isObjectLiteralExpression(options) && options.properties.some((p) => p.name?.getText() === "defaultPath");
  });
}

function argumentsOf(checker: ts.TypeChecker, declaration: ts.SignatureDeclaration): ModuleArgument[] {
  return declaration.parameters.map((param) => ({
    name: param.name.getText(),
    type: typeName(checker, checker.getTypeAtLocation(param)),
    optional: param.questionToken !== undefined || param.initializer !== undefined || hasDefaultPath(param),
  }));
}

/**
 * Core Dagger types (Directory, File…) as the CLI sees them: required parameters become flags,
 * and so do the fields of the trailing `opts` object.
 */
function coreFunctions(checker: ts.TypeChecker, type: ts.Type): Map<string, ModuleFunction> {
  const functions = new Map<string, ModuleFunction>();
  for (const property of checker.getPropertiesOfType(type)) {
    const declaration = property.valueDeclaration ?? property.declarations?.[0];
    if (!declaration) continue;
    const signatures = checker.getTypeOfSymbolAtLocation(property, declaration).getCallSignatures();
    const signature = signatures[0];
    if (!signature) continue;
    const args: ModuleArgument[] = [];
    for (const param of signature.getParameters()) {
      const paramDecl = param.valueDeclaration as ts.ParameterDeclaration | undefined;
      if (!paramDecl) continue;
      const paramType = checker.getTypeOfSymbolAtLocation(param, paramDecl);
      if (param.name === "opts") {
        const optsType = checker.getNonNullableType(paramType);
        for (const field of checker.getPropertiesOfType(optsType)) {
          const fieldDecl = field.valueDeclaration ?? field.declarations?.[0];
          if (!fieldDecl) continue;
          args.push({ name: field.name, type: typeName(checker, checker.getTypeOfSymbolAtLocation(field, fieldDecl)), optional: true });
        }
      } else {
        args.push({ name: param.name, type: typeName(checker, paramType), optional: paramDecl.questionToken !== undefined });
      }
    }
    functions.set(property.name, { name: property.name, args, returns: returnTypeName(checker, signature) });
  }
  return functions;
}

const parsedFiles = new Map<string, ts.SourceFile>();

/**
 * Scans the module from `entry` (default `dagger/src/index.ts`). `overrides` replaces file contents
 * by absolute path, so a test can show that a renamed argument is caught.
 */
export function scanModuleApi(entry: string = MODULE_ENTRY, overrides: ReadonlyMap<string, string> = new Map()): ModuleApi {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    experimentalDecorators: true,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options, true);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => overrides.get(resolve(file)) ?? readFile(file);
  host.getSourceFile = (file, languageVersion, onError, shouldCreate) => {
    const text = overrides.get(resolve(file));
    if (text !== undefined) return ts.createSourceFile(file, text, languageVersion, true);
    // Parsing the SDK's declarations dominates a scan; tests scan several variants of the module.
    let parsed = parsedFiles.get(file);
    if (!parsed) {
      parsed = getSourceFile(file, languageVersion, onError, shouldCreate);
      if (parsed) parsedFiles.set(file, parsed);
    }
    return parsed;
  };
  const program = ts.createProgram([entry], options, host);
  const checker = program.getTypeChecker();
  const moduleDir = dirname(resolve(entry));

  const api: ModuleApi = new Map();
  const coreTypes = new Map<string, ts.Type>();
  for (const sourceFile of program.getSourceFiles()) {
    if (!resolve(sourceFile.fileName).startsWith(moduleDir + "/")) continue;
    ts.forEachChild(sourceFile, (node) => {
      if (!ts.isClassDeclaration(node) || !node.name || !hasDecorator(node, "object")) return;
      const functions = new Map<string, ModuleFunction>();
      for (const member of node.members) {
        if (!hasDecorator(member, "func") || !member.name) continue;
        const name = member.name.getText();
        if (ts.isMethodDeclaration(member)) {
          const signature = checker.getSignatureFromDeclaration(member);
          if (!signature) continue;
          functions.set(name, { name, args: argumentsOf(checker, member), returns: returnTypeName(checker, signature) });
          const awaited = checker.getAwaitedType(checker.getReturnTypeOfSignature(signature));
          if (awaited) coreTypes.set(typeName(checker, awaited), checker.getNonNullableType(awaited));
        } else if (ts.isPropertyDeclaration(member)) {
          const type = checker.getTypeAtLocation(member);
          functions.set(name, { name, args: [], returns: typeName(checker, type) });
          coreTypes.set(typeName(checker, type), checker.getNonNullableType(type));
        }
      }
      api.set(node.name.text, functions);
    });
  }
  // Returned Dagger core types (Directory, Container…) get their own functions, for chains like `reports export`.
  for (const [name, type] of coreTypes) {
    if (api.has(name) || !type.getSymbol() || (type.flags & ts.TypeFlags.Object) === 0 || name.endsWith("[]")) continue;
    api.set(name, coreFunctions(checker, type));
  }
  return api;
}

/** `dbRepository` -> `db-repository`, as the Dagger CLI names flags and functions. */
export function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}
