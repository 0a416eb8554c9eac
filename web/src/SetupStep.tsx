/** Step 2: which columns are features and which are described only, then the options of the SegmentationConfig schema. */
import { useState } from "react";
import { ApiError, type DatasetInfo, getJson } from "./api";
import { type ColumnChoice, defaultChoice } from "./columns";
import { type Config, ConfigFields, type JsonSchema } from "./ConfigForm";

export interface Choices {
  [column: string]: { feature: boolean; profile: boolean };
}

export function SetupStep(props: {
  token: string;
  dataset: DatasetInfo;
  schema: JsonSchema | null;
  schemaError: string | null;
  kinds: Record<string, string>;
  choices: Choices;
  onChoices: (c: Choices) => void;
  idColumn: string;
  onIdColumn: (id: string) => void;
  config: Config;
  onConfig: (path: string[], value: unknown) => void;
  onRun: () => void;
  running: boolean;
  error: { message: string; field?: string } | null;
}) {
  const columns = props.dataset.columns ?? [];
  const maxCategories = (props.config.preprocessing as { maxCategories?: number } | undefined)?.maxCategories ?? 50;
  const [showJson, setShowJson] = useState(false);
  const choiceOf = (name: string): ColumnChoice & { set: boolean; default: ColumnChoice } => {
    const c = columns.find((x) => x.name === name)!;
    const d = defaultChoice(c, props.kinds[name] ?? c.kind, maxCategories);
    const set = props.choices[name];
    return { ...d, ...(set ?? {}), set: !!set, default: d };
  };
  const features = columns.filter((c) => choiceOf(c.name).feature).map((c) => c.name);
  const errorField = props.error?.field ?? null;

  return (
    <section aria-labelledby="h-setup">
      <h2 id="h-setup" tabIndex={-1}>2. Set-up</h2>
      <form onSubmit={(e) => {
        e.preventDefault();
        props.onRun();
      }}>
        <fieldset className="group">
          <legend>Columns</legend>
          <p className="help">Features are the columns the customers are compared on; profile-only columns are described in each segment without being compared (an outcome such as churn).</p>
          <div className="table-wrap">
            <table>
              <thead>
                <tr><th scope="col">column</th><th scope="col">kind</th><th scope="col">feature</th><th scope="col">profile only</th><th scope="col">why</th></tr>
              </thead>
              <tbody>
                {columns.map((c) => {
                  const ch = choiceOf(c.name);
                  const set = (patch: Partial<{ feature: boolean; profile: boolean }>) => {
                    const next = { feature: ch.feature, profile: ch.profile, ...patch };
                    if (patch.feature) next.profile = false;
                    if (patch.profile) next.feature = false;
                    props.onChoices({ ...props.choices, [c.name]: next });
                  };
                  return (
                    <tr key={c.name}>
                      <th scope="row">{c.name}</th>
                      <td>{props.kinds[c.name] ?? c.kind}</td>
                      <td><input type="checkbox" aria-label={`cluster on ${c.name}`} data-feature={c.name} checked={ch.feature} onChange={(e) => set({ feature: e.target.checked })} /></td>
                      <td><input type="checkbox" aria-label={`describe ${c.name} only`} data-profile={c.name} checked={ch.profile} onChange={(e) => set({ profile: e.target.checked })} /></td>
                      <td className="small">{ch.reason}{ch.set && (ch.feature !== ch.default.feature || ch.profile !== ch.default.profile) ? " — changed here" : ""}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p className="muted small">{features.length} feature{features.length === 1 ? "" : "s"}: {features.join(", ") || "none — choose at least one"}</p>
          <div className="field">
            <label htmlFor="cfg-id">id</label>
            <select id="cfg-id" aria-describedby="cfg-id-help" value={props.idColumn} onChange={(e) => props.onIdColumn(e.target.value)}>
              <option value="">automatic</option>
              {columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
            </select>
            <p className="help" id="cfg-id-help">Column that identifies a row (a customer); automatic: the first id-like column, else the row number.</p>
          </div>
        </fieldset>

        <fieldset className="group">
          <legend>Segmentation</legend>
          {props.schemaError && <p className="error" role="alert">The configuration's schema could not be read: {props.schemaError}</p>}
          {props.schema && <ConfigFields schema={props.schema} config={props.config} onChange={props.onConfig} columns={columns.map((c) => ({ name: c.name, kind: props.kinds[c.name] ?? c.kind }))} errorField={errorField} />}
        </fieldset>

        <PlanPreview token={props.token} dataset={props.dataset} config={() => buildConfig(props.dataset, props.kinds, props.choices, props.idColumn, props.config)} />
        {props.error && <p className="error" role="alert" data-testid="run-error">The run was refused{props.error.field ? ` (${props.error.field})` : ""}: {props.error.message}</p>}
        <p className="actions">
          <button type="submit" className="primary" disabled={props.running || features.length === 0}>Run the segmentation</button>
          <button type="button" onClick={() => setShowJson(!showJson)} aria-expanded={showJson}>{showJson ? "Hide" : "Show"} the configuration as JSON</button>
        </p>
        {showJson && <pre className="json">{JSON.stringify(buildConfig(props.dataset, props.kinds, props.choices, props.idColumn, props.config), null, 2)}</pre>}
      </form>
    </section>
  );
}

/** The configuration sent to POST /api/v1/runs: the form's options, the columns' roles and kinds. */
export function buildConfig(dataset: DatasetInfo, kinds: Record<string, string>, choices: Choices, idColumn: string, config: Config): Config {
  const columns = dataset.columns ?? [];
  const maxCategories = (config.preprocessing as { maxCategories?: number } | undefined)?.maxCategories ?? 50;
  const pick = (name: string) => ({ ...defaultChoice(columns.find((c) => c.name === name)!, kinds[name] ?? columns.find((c) => c.name === name)!.kind, maxCategories), ...(choices[name] ?? {}) });
  const features = columns.filter((c) => pick(c.name).feature).map((c) => c.name);
  const profile = columns.filter((c) => pick(c.name).profile).map((c) => c.name);
  return {
    ...config,
    features,
    ...(profile.length ? { profile } : {}),
    ...(Object.keys(kinds).length ? { types: kinds } : {}),
    ...(idColumn ? { id: idColumn } : {}),
  };
}

interface Plan {
  idColumn: string | null;
  features: { name: string; kind: string; used: boolean; reason: string }[];
  steps: { step: string; columns: string[]; reason: string }[];
}

/** What the configuration would do before it runs (POST /api/v1/datasets/:id/plan): the features and the preprocessing steps, each with its reason. */
function PlanPreview({ token, dataset, config }: { token: string; dataset: DatasetInfo; config: () => Config }) {
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div className="plan">
      <button type="button" disabled={busy} onClick={() => {
        setBusy(true);
        setError(null);
        getJson<Plan>(token, `/api/v1/datasets/${dataset.id}/plan`, { json: { config: config() } })
          .then(setPlan, (e) => setError(e instanceof ApiError ? e.message : String(e)))
          .finally(() => setBusy(false));
      }}>Show the preprocessing plan</button>
      {error && <p className="error" role="alert">{error}</p>}
      {plan && (
        <div data-testid="plan" aria-live="polite">
          <h3>The plan</h3>
          <p>Customers are named by {plan.idColumn ? <code>{plan.idColumn}</code> : "their row number"}; clustered on {plan.features.filter((f) => f.used).map((f) => f.name).join(", ")}.</p>
          <ol className="steps">
            {plan.steps.map((s, i) => <li key={i}><strong>{s.step}</strong>{s.columns.length ? ` (${s.columns.join(", ")})` : ""}: {s.reason}</li>)}
          </ol>
        </div>
      )}
    </div>
  );
}
