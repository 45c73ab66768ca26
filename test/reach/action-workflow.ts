/**
 * actionlint checks workflows, and of a local action only its metadata, not its steps. To lint the
 * composite action's steps too (expressions, step outputs, shellcheck on every `run:`, inputs of the
 * actions it uses), wrap them in a reusable workflow whose `workflow_call` inputs mirror the action's.
 */
import { parse, stringify } from "yaml";

export function actionAsWorkflow(actionYaml: string, name = "action-steps"): string {
  const action = parse(actionYaml) as {
    inputs?: Record<string, { description?: string; required?: boolean; default?: string }>;
    runs?: { using?: string; steps?: unknown[] };
  };
  if (action?.runs?.using !== "composite" || !Array.isArray(action.runs.steps)) {
    throw new Error("not a composite action: runs.using must be composite with a steps list");
  }
  const inputs = Object.fromEntries(
    Object.entries(action.inputs ?? {}).map(([key, spec]) => [
      key,
      { description: spec.description ?? key, required: spec.required ?? false, type: "string", ...(spec.default !== undefined ? { default: spec.default } : {}) },
    ]),
  );
  return stringify({
    name,
    on: { workflow_call: { inputs } },
    permissions: {},
    jobs: { steps: { "runs-on": "ubuntu-24.04", steps: action.runs.steps } },
  });
}
