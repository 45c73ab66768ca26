/**
 * Checks the example consumer module's `dag.portcullis()…` calls against the module's API, the way
 * the bindings that `dagger develop` generates would type them: required arguments positional, in
 * order; optional ones (and those with a defaultPath) in one trailing options object.
 * The consumer cannot be compiled here (its bindings need an engine), so this is its type check.
 */
import ts from "typescript";
import type { ModuleApi } from "./module-signature.js";

export interface ConsumerCall {
  /** e.g. `Portcullis.pipeline > PipelineRun.reports`, with the line of the outermost call. */
  chain: string;
  line: number;
}

export function checkConsumer(fileName: string, text: string, api: ModuleApi, dependency = "portcullis", rootType = "Portcullis") {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const problems: string[] = [];
  const calls: ConsumerCall[] = [];
  const variables = new Map<string, string>();
  const where = (node: ts.Node) => `${fileName}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;

  /** The type a bare expression stands for: `dag.portcullis()` or a variable bound to a checked chain. */
  function rootOf(expr: ts.Expression): string | undefined {
    if (
      ts.isCallExpression(expr) &&
      ts.isPropertyAccessExpression(expr.expression) &&
      ts.isIdentifier(expr.expression.expression) &&
      expr.expression.expression.text === "dag" &&
      expr.expression.name.text === dependency
    ) {
      return rootType;
    }
    if (ts.isIdentifier(expr)) return variables.get(expr.text);
    return undefined;
  }

  /** Checks a call chain and returns its final type, or undefined when it does not start at portcullis. */
  function typeOf(expr: ts.Expression, links: string[]): string | undefined {
    if (ts.isAwaitExpression(expr) || ts.isParenthesizedExpression(expr)) return typeOf(expr.expression, links);
    const root = rootOf(expr);
    if (root) return root;
    if (!ts.isCallExpression(expr) || !ts.isPropertyAccessExpression(expr.expression)) return undefined;
    const receiver = typeOf(expr.expression.expression, links);
    if (!receiver) return undefined;
    const name = expr.expression.name.text;
    const fn = api.get(receiver)?.get(name);
    if (!fn) {
      if (api.has(receiver)) problems.push(`${where(expr)}: ${receiver} has no function ${name}()`);
      return undefined;
    }
    links.push(`${receiver}.${name}`);
    const required = fn.args.filter((a) => !a.optional);
    const optional = new Set(fn.args.filter((a) => a.optional).map((a) => a.name));
    const given = [...expr.arguments];
    const last = given.at(-1);
    // No positional argument of a generated binding is an object literal, so a trailing one is the options.
    const options = last && ts.isObjectLiteralExpression(last) ? (given.pop() as ts.ObjectLiteralExpression) : undefined;
    if (given.length !== required.length) {
      problems.push(
        `${where(expr)}: ${receiver}.${name}() takes ${required.length} positional argument(s) (${required.map((a) => a.name).join(", ") || "none"}) and options {${[...optional].join(", ")}}, got ${given.length}`,
      );
    }
    for (const property of options?.properties ?? []) {
      const key = property.name?.getText();
      if (key && !optional.has(key)) {
        problems.push(`${where(property)}: ${receiver}.${name}() has no option "${key}" (it takes ${[...optional].join(", ") || "none"})`);
      }
    }
    return fn.returns;
  }

  function visit(node: ts.Node): void {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      const links: string[] = [];
      const type = typeOf(node.initializer, links);
      if (type) {
        variables.set(node.name.text, type);
        if (links.length > 0) calls.push({ chain: links.join(" > "), line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
        return;
      }
    }
    if (ts.isCallExpression(node) && !(ts.isPropertyAccessExpression(node.parent) && ts.isCallExpression(node.parent.parent))) {
      const links: string[] = [];
      if (typeOf(node, links) && links.length > 0) {
        calls.push({ chain: links.join(" > "), line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
        return;
      }
    }
    ts.forEachChild(node, visit);
  }
  visit(source);
  return { calls, problems };
}
