/**
 * Reads the composite action's `dagger call` lines and checks them against the module's API
 * (see module-signature.ts): every function and flag exists, required arguments are given,
 * every action input reaches a real argument, and secrets travel as `env:VAR`, never as text.
 */
import { parse } from "yaml";
import { kebabCase, type ModuleApi, type ModuleFunction } from "./module-signature.js";

/** The official Dagger action, whatever commit it is pinned to. */
export const DAGGER_ACTION = "dagger/dagger-for-github";

interface ActionStep {
  id?: string;
  name?: string;
  uses?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

export interface CompositeAction {
  inputs: Record<string, { description?: string; required?: boolean; default?: string }>;
  steps: ActionStep[];
}

export function parseAction(yamlText: string): CompositeAction {
  const doc = parse(yamlText) as { inputs?: CompositeAction["inputs"]; runs?: { using?: string; steps?: ActionStep[] } };
  if (doc?.runs?.using !== "composite" || !Array.isArray(doc.runs.steps)) throw new Error("action.yml: runs.using is not composite with steps");
  return { inputs: doc.inputs ?? {}, steps: doc.runs.steps };
}

/** One shell word of a `call:` line; `condition` names the variable of an enclosing `${VAR:+…}`. */
export interface CallWord {
  text: string;
  condition?: string;
}

/** Splits a `call:` line into words, understanding "…" quoting and `${VAR:+words}` groups. */
export function splitCallWords(line: string, condition?: string): CallWord[] {
  const words: CallWord[] = [];
  let i = 0;
  let current = "";
  let inWord = false;
  const flush = () => {
    if (inWord) words.push(condition ? { text: current, condition } : { text: current });
    current = "";
    inWord = false;
  };
  while (i < line.length) {
    const ch = line[i]!;
    if (/\s/.test(ch)) {
      flush();
      i++;
    } else if (ch === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unterminated quote in call: ${line}`);
      current += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (line.startsWith("${", i) && /^\$\{[A-Za-z_][A-Za-z0-9_]*:\+/.test(line.slice(i))) {
      flush();
      const name = /^\$\{([A-Za-z_][A-Za-z0-9_]*):\+/.exec(line.slice(i))![1]!;
      let depth = 1;
      let j = i + 2;
      while (j < line.length && depth > 0) {
        j++;
        if (line[j] === "{") depth++;
        if (line[j] === "}") depth--;
      }
      if (depth !== 0) throw new Error(`unterminated \${${name}:+…} in call: ${line}`);
      words.push(...splitCallWords(line.slice(i + name.length + 4, j), name));
      i = j + 1;
    } else {
      current += ch;
      inWord = true;
      i++;
    }
  }
  flush();
  return words;
}

export interface FlagUse {
  flag: string;
  value: string;
  condition?: string;
}

export interface ChainLink {
  type: string;
  fn: ModuleFunction;
  flags: FlagUse[];
}

export interface CallCheck {
  step: string;
  chain: ChainLink[];
  problems: string[];
}

/** Walks `fn --flag value … fn2 --flag value …` from the module's main object, checking each link. */
export function checkCallLine(step: string, line: string, api: ModuleApi, rootType = "Portcullis"): CallCheck {
  const problems: string[] = [];
  const chain: ChainLink[] = [];
  const words = splitCallWords(line);
  let type = rootType;
  let link: ChainLink | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.text.startsWith("--")) {
      if (!link) {
        problems.push(`${step}: flag ${word.text} comes before any function`);
        continue;
      }
      const value = words[i + 1];
      if (!value || value.text.startsWith("--")) {
        problems.push(`${step}: ${link.type}.${link.fn.name} flag ${word.text} has no value`);
        continue;
      }
      i++;
      const flag = word.text.slice(2);
      link.flags.push(word.condition ? { flag, value: value.text, condition: word.condition } : { flag, value: value.text });
      if (!link.fn.args.some((arg) => kebabCase(arg.name) === flag)) {
        problems.push(
          `${step}: ${link.type}.${link.fn.name} has no argument --${flag} (it takes ${link.fn.args.map((a) => `--${kebabCase(a.name)}`).join(", ") || "none"})`,
        );
      }
      continue;
    }
    const functions = api.get(type);
    const fn = functions ? [...functions.values()].find((f) => kebabCase(f.name) === word.text) : undefined;
    if (!fn) {
      problems.push(`${step}: ${type} has no function "${word.text}"${functions ? "" : ` (${type} is not a type the module exposes)`}`);
      break;
    }
    link = { type, fn, flags: [] };
    chain.push(link);
    type = fn.returns;
  }
  for (const l of chain) {
    for (const arg of l.fn.args) {
      const given = l.flags.find((f) => f.flag === kebabCase(arg.name));
      if (!arg.optional && (!given || given.condition)) {
        problems.push(`${step}: ${l.type}.${l.fn.name} needs --${kebabCase(arg.name)}, which the call does not always give`);
      }
      if (given && arg.type === "Secret" && !/^env:[A-Za-z_][A-Za-z0-9_]*$/.test(given.value)) {
        problems.push(`${step}: --${given.flag} is a Secret and must be passed as env:VAR, not "${given.value}"`);
      }
      if (given && arg.type !== "Secret" && given.value.startsWith("env:")) {
        problems.push(`${step}: --${given.flag} is a ${arg.type}, not a Secret; "${given.value}" would be taken literally`);
      }
    }
  }
  return { step, chain, problems };
}

/** The environment variable a flag value reads: `"$VAR"` -> VAR, `env:VAR` -> VAR. */
export function variableOf(value: string): string | undefined {
  return /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(value)?.[1] ?? /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(value)?.[1];
}

/** The action input an expression reads, for env values of the form `${{ inputs.name }}`. */
function inputOf(expression: string): string | undefined {
  return /^\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}$/.exec(expression.trim())?.[1];
}

export interface ActionCheck {
  calls: CallCheck[];
  /** action input -> the module arguments it reaches (`Portcullis.pipeline --source`), or the Dagger version. */
  inputTargets: Map<string, string[]>;
  problems: string[];
}

/** Checks every `dagger call` of the action against the module, and every input against the calls. */
export function checkActionAgainstModule(action: CompositeAction, api: ModuleApi): ActionCheck {
  const problems: string[] = [];
  const calls: CallCheck[] = [];
  const inputTargets = new Map<string, string[]>(Object.keys(action.inputs).map((name) => [name, []]));
  const daggerSteps = action.steps.filter((s) => s.uses?.split("@")[0] === DAGGER_ACTION);
  if (daggerSteps.length === 0) problems.push(`no step uses ${DAGGER_ACTION}`);
  for (const step of daggerSteps) {
    const label = step.id ?? step.name ?? "(unnamed step)";
    const withs = step.with ?? {};
    if (withs.verb !== undefined && withs.verb !== "call") problems.push(`${label}: verb is "${withs.verb}", not call`);
    const versionInput = inputOf(String(withs.version ?? ""));
    if (versionInput) inputTargets.get(versionInput)?.push(`${label}: Dagger CLI version`);
    else problems.push(`${label}: the Dagger version does not come from an action input`);
    if (!withs.call) {
      problems.push(`${label}: no call`);
      continue;
    }
    const check = checkCallLine(label, String(withs.call), api);
    calls.push(check);
    problems.push(...check.problems);
    const envToInput = new Map<string, string>();
    for (const [variable, expression] of Object.entries(step.env ?? {})) {
      const input = inputOf(String(expression));
      if (input) envToInput.set(variable, input);
    }
    for (const link of check.chain) {
      for (const use of link.flags) {
        const variable = variableOf(use.value);
        const input = variable ? envToInput.get(variable) : undefined;
        if (variable && !input && !(step.env && variable in step.env)) {
          problems.push(`${label}: --${use.flag} reads $${variable}, which the step's env does not set`);
        }
        if (use.condition && use.condition !== variable) {
          problems.push(`${label}: --${use.flag} is guarded by ${use.condition} but reads ${variable ?? use.value}`);
        }
        if (input) {
          const targets = inputTargets.get(input);
          if (!targets) problems.push(`${label}: env ${variable} reads inputs.${input}, which the action does not declare`);
          else targets.push(`${link.type}.${link.fn.name} --${use.flag}`);
        }
      }
    }
  }
  for (const [input, targets] of inputTargets) {
    if (targets.length === 0) problems.push(`input "${input}" reaches no module argument in any dagger call`);
  }
  return { calls, inputTargets, problems };
}
