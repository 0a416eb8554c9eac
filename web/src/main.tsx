/**
 * Segmenta's dashboard: from a customer file to named segments, published and exported, in
 * the browser. A client of the public HTTP API only (see api.ts); the steps are addressed by
 * the URL's hash (#/data, #/setup, #/runs/ID, #/history), so a results page can be bookmarked.
 */
import { StrictMode, useCallback, useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { ApiError, type DatasetInfo, followRun, getJson, type ModelInfo, normaliseDataset, type RunInfo, savedToken, saveToken } from "./api";
import { type Config, type JsonSchema, setAt } from "./ConfigForm";
import { Compare } from "./Compare";
import { DataStep } from "./DataStep";
import { Results } from "./Results";
import { buildConfig, type Choices, SetupStep } from "./SetupStep";
import "./styles.css";

/** A model name in GET /api/v1/models. */
interface ModelSummary {
  name: string;
  activeVersion: number;
  versions: number;
}

type View = { step: "data" } | { step: "setup" } | { step: "run"; id: string } | { step: "history" };

function parseHash(): View {
  const h = location.hash.replace(/^#\/?/, "");
  const m = /^runs\/([A-Za-z0-9-]+)$/.exec(h);
  if (m) return { step: "run", id: m[1] };
  if (h === "setup") return { step: "setup" };
  if (h === "history") return { step: "history" };
  return { step: "data" };
}

function go(hash: string) {
  if (location.hash !== hash) location.hash = hash;
}

function SignIn({ onToken, error }: { onToken: (t: string) => void; error: string | null }) {
  const [value, setValue] = useState("");
  return (
    <main id="main" className="signin">
      <h1>Segmenta</h1>
      <form onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) onToken(value.trim());
      }}>
        <label htmlFor="token">Access token</label>
        <input id="token" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} aria-describedby="token-help" aria-invalid={!!error || undefined} />
        <p className="help" id="token-help">A token from <code>segmenta token create --scope admin</code> (read is enough to look; admin to upload, run and publish). It is kept in this tab only.</p>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" className="primary">Sign in</button>
      </form>
    </main>
  );
}

function RunProgress({ token, run, onRun }: { token: string; run: RunInfo; onRun: (r: RunInfo) => void }) {
  const [error, setError] = useState<string | null>(null);
  const finished = run.status === "succeeded" || run.status === "failed" || run.status === "cancelled";
  const latest = useRef(run);
  latest.current = run;
  useEffect(() => {
    if (finished) return;
    const ctl = new AbortController();
    followRun(token, run.id, (e) => {
      if (e.type === "progress") onRun({ ...latest.current, progress: e.progress ?? latest.current.progress, message: e.message ?? latest.current.message, status: latest.current.status === "queued" && e.progress ? "running" : latest.current.status });
      else if (e.type === "status") onRun({ ...latest.current, status: e.status!, summary: e.summary ?? null, error: e.error ?? null });
    }, ctl.signal)
      .then(async () => {
        if (!ctl.signal.aborted) onRun(await getJson<RunInfo>(token, `/api/v1/runs/${run.id}`));
      })
      .catch((e) => !ctl.signal.aborted && setError(e instanceof ApiError ? e.message : String(e)));
    return () => ctl.abort();
  }, [token, run.id, finished]);

  async function cancel() {
    setError(null);
    try {
      onRun(await getJson<RunInfo>(token, `/api/v1/runs/${run.id}`, { method: "DELETE" }));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }

  return (
    <section aria-labelledby="h-run">
      <h2 id="h-run" tabIndex={-1}>3. Run</h2>
      <p>Run <code>{run.id.slice(0, 8)}</code>: <strong data-testid="run-status">{run.status}</strong></p>
      {!finished && (
        <div className="progress-line">
          <label htmlFor="run-progress">Progress</label>
          <progress id="run-progress" max={1} value={run.progress ?? undefined} />
          <span aria-live="polite" data-testid="run-message">{run.message ?? "waiting for a free slot"}</span>
          <button type="button" onClick={() => void cancel()}>Cancel the run</button>
        </div>
      )}
      {run.status === "failed" && <p className="error" role="alert" data-testid="run-failed">The run failed: {run.error}</p>}
      {run.status === "cancelled" && <p role="status">The run was cancelled.</p>}
      {error && <p className="error" role="alert">{error}</p>}
    </section>
  );
}

function History({ token, datasets, onOpen }: { token: string; datasets: DatasetInfo[]; onOpen: (id: string) => void }) {
  const [runs, setRuns] = useState<RunInfo[] | null>(null);
  const [models, setModels] = useState<ModelSummary[] | null>(null);
  const [versions, setVersions] = useState<Record<string, ModelInfo[]>>({});
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    Promise.all([getJson<{ runs: RunInfo[] }>(token, "/api/v1/runs"), getJson<{ models: ModelSummary[] }>(token, "/api/v1/models")])
      .then(([r, m]) => {
        setRuns(r.runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
        setModels(m.models);
      })
      .catch((e) => setError(e instanceof ApiError ? e.message : String(e)));
  }, [token]);
  const nameOf = (id: string) => datasets.find((d) => d.id === id)?.name ?? id.slice(0, 8);
  return (
    <section aria-labelledby="h-history">
      <h2 id="h-history" tabIndex={-1}>History</h2>
      {error && <p className="error" role="alert">{error}</p>}
      <h3 id="h-runs">Runs</h3>
      {runs && runs.length === 0 && <p className="muted">No run yet.</p>}
      {runs && runs.length > 0 && (
        <div className="table-wrap">
          <table aria-labelledby="h-runs">
            <thead><tr><th scope="col">started</th><th scope="col">dataset</th><th scope="col">status</th><th scope="col">algorithm</th><th scope="col">segments</th><th scope="col"><span className="visually-hidden">open</span></th></tr></thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td>{r.createdAt.slice(0, 19).replace("T", " ")}</td>
                  <td>{nameOf(r.datasetId)}</td>
                  <td>{r.status}{r.error ? `: ${r.error}` : ""}</td>
                  <td>{String(r.config.algorithm ?? "")}</td>
                  <td>{r.summary ? r.summary.segments.map((s) => s.name).join(", ") : ""}</td>
                  <td><button type="button" onClick={() => onOpen(r.id)}>Open run {r.id.slice(0, 8)}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3 id="h-compare">Compare two runs</h3>
      {runs && <Compare token={token} runs={runs} />}
      <h3 id="h-models">Model versions</h3>
      {models && models.length === 0 && <p className="muted">No model published yet.</p>}
      {models && models.length > 0 && (
        <ul className="models">
          {models.map((m) => (
            <li key={m.name}>
              <strong>{m.name}</strong> — active version {m.activeVersion} of {m.versions}{" "}
              <button type="button" aria-expanded={!!versions[m.name]} onClick={() => {
                if (versions[m.name]) return setVersions((v) => Object.fromEntries(Object.entries(v).filter(([k]) => k !== m.name)));
                getJson<{ versions: ModelInfo[] }>(token, `/api/v1/models/${encodeURIComponent(m.name)}`)
                  .then((x) => setVersions((v) => ({ ...v, [m.name]: x.versions })))
                  .catch((e) => setError(e instanceof ApiError ? e.message : String(e)));
              }}>{versions[m.name] ? "Hide" : "Show"} the versions of {m.name}</button>
              {versions[m.name] && (
                <ul>{versions[m.name].map((v) => <li key={v.version}>version {v.version}{v.active ? " (active)" : ""}, {String(v.createdAt ?? "").slice(0, 16).replace("T", " ")}{v.runId ? <> — <button type="button" className="link" onClick={() => onOpen(v.runId!)}>run {v.runId.slice(0, 8)}</button></> : null}</li>)}</ul>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function App() {
  const [token, setToken] = useState<string | null>(savedToken());
  const [signInError, setSignInError] = useState<string | null>(null);
  const [view, setView] = useState<View>(parseHash());
  const [datasets, setDatasets] = useState<DatasetInfo[]>([]);
  const [dataset, setDataset] = useState<DatasetInfo | null>(null);
  const [kinds, setKinds] = useState<Record<string, string>>({});
  const [choices, setChoices] = useState<Choices>({});
  const [idColumn, setIdColumn] = useState("");
  const [config, setConfig] = useState<Config>({});
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  const [schemaError, setSchemaError] = useState<string | null>(null);
  const [run, setRun] = useState<RunInfo | null>(null);
  const [runError, setRunError] = useState<{ message: string; field?: string } | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const mainRef = useRef<HTMLElement>(null);

  useEffect(() => {
    const on = () => setView(parseHash());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);

  const signOut = useCallback((why: string | null) => {
    saveToken(null);
    setToken(null);
    setSignInError(why);
  }, []);

  // Signed in, and on each step but the set-up: the datasets (a 401 sends the user back to sign in).
  const step = view.step;
  useEffect(() => {
    if (!token || step === "setup") return;
    getJson<{ datasets: DatasetInfo[] }>(token, "/api/v1/datasets")
      .then((r) => setDatasets(r.datasets.map(normaliseDataset).sort((a, b) => (b.createdAt ?? "").localeCompare(a.createdAt ?? ""))))
      .catch((e) => (e instanceof ApiError && e.status === 401 ? signOut(e.message) : setLoadError(e instanceof ApiError ? e.message : String(e))));
  }, [token, step, signOut]);
  // The configuration's schema, from the OpenAPI document.
  useEffect(() => {
    if (!token) return;
    getJson<{ components: { schemas: { SegmentationConfig: JsonSchema } } }>(token, "/openapi.json")
      .then((doc) => setSchema(doc.components.schemas.SegmentationConfig))
      .catch((e) => setSchemaError(e instanceof ApiError ? e.message : String(e)));
  }, [token, signOut]);

  // A run addressed by the hash: read it (and its dataset) when it is not the one in hand.
  useEffect(() => {
    if (!token || view.step !== "run" || run?.id === view.id) return;
    getJson<RunInfo>(token, `/api/v1/runs/${view.id}`)
      .then((r) => {
        setRun(r);
        const d = datasets.find((x) => x.id === r.datasetId);
        if (d) setDataset(d);
        else getJson<unknown>(token, `/api/v1/datasets/${r.datasetId}`).then((x) => setDataset(normaliseDataset(x)), () => undefined);
      })
      .catch((e) => setLoadError(e instanceof ApiError ? e.message : String(e)));
  }, [token, view, run?.id, datasets]);

  // Focus the step's heading when the step changes (keyboard and screen-reader users land on it).
  useEffect(() => {
    mainRef.current?.querySelector<HTMLElement>("h2")?.focus();
  }, [view.step]);

  if (!token) {
    return <SignIn error={signInError} onToken={(t) => {
      getJson(t, "/api/v1/datasets").then(() => {
        saveToken(t);
        setSignInError(null);
        setToken(t);
      }, (e) => setSignInError(e instanceof ApiError ? e.message : String(e)));
    }} />;
  }

  const chooseDataset = (d: DatasetInfo) => {
    setDataset(d);
    setKinds({});
    setChoices({});
    setIdColumn("");
    setRunError(null);
  };

  async function startRun() {
    if (!dataset || !token) return;
    setSubmitting(true);
    setRunError(null);
    try {
      const body = { datasetId: dataset.id, config: buildConfig(dataset, kinds, choices, idColumn, config) };
      const r = await getJson<{ id: string }>(token, "/api/v1/runs", { json: body });
      const info = await getJson<RunInfo>(token, `/api/v1/runs/${r.id}`);
      setRun(info);
      go(`#/runs/${r.id}`);
    } catch (e) {
      setRunError(e instanceof ApiError ? { message: e.message, field: e.field } : { message: String(e) });
    } finally {
      setSubmitting(false);
    }
  }

  const steps: [string, string, boolean][] = [
    ["#/data", "1. Data", view.step === "data"],
    ["#/setup", "2. Set-up", view.step === "setup"],
    [run ? `#/runs/${run.id}` : "#/data", "3–4. Run and results", view.step === "run"],
    ["#/history", "History", view.step === "history"],
  ];

  return (
    <>
      <a className="skip" href="#main" onClick={(e) => {
        e.preventDefault();
        mainRef.current?.focus();
      }}>Skip to the content</a>
      <header className="top">
        <span className="brand">Segmenta</span>
        <nav aria-label="Steps">
          <ul>
            {steps.map(([href, label, current]) => (
              <li key={label}><a href={href} aria-current={current ? "page" : undefined}>{label}</a></li>
            ))}
          </ul>
        </nav>
        <button type="button" className="link" onClick={() => signOut(null)}>Sign out</button>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        {loadError && <p className="error" role="alert">{loadError}</p>}
        {view.step === "data" && (
          <DataStep token={token} datasets={datasets} dataset={dataset} kinds={kinds} onKinds={setKinds}
            onDataset={chooseDataset}
            onUploaded={(d) => {
              setDatasets((all) => [d, ...all.filter((x) => x.id !== d.id)]);
              chooseDataset(d);
            }}
            onNext={() => go("#/setup")} />
        )}
        {view.step === "setup" && (dataset ? (
          <SetupStep token={token} dataset={dataset} schema={schema} schemaError={schemaError} kinds={kinds} choices={choices} onChoices={setChoices}
            idColumn={idColumn} onIdColumn={setIdColumn} config={config} onConfig={(path, value) => setConfig((c) => setAt(c, path, value))}
            onRun={() => void startRun()} running={submitting} error={runError} />
        ) : <p>Upload or pick a dataset first: <a href="#/data">1. Data</a>.</p>)}
        {view.step === "run" && run && run.id === view.id && (
          <>
            <RunProgress token={token} run={run} onRun={setRun} />
            {run.status === "succeeded" && <Results token={token} run={run} dataset={dataset} datasets={datasets} />}
          </>
        )}
        {view.step === "history" && <History token={token} datasets={datasets} onOpen={(id) => go(`#/runs/${id}`)} />}
      </main>
    </>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
