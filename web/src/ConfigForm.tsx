/**
 * The set-up form, generated from the SegmentationConfig JSON Schema that /openapi.json serves
 * (components.schemas.SegmentationConfig): each option once, with its type, choices, bounds and
 * default from the schema and its description (the .describe() texts of src/pipeline/config.ts).
 * The configuration holds only what the user set; the API fills in the rest with the same defaults.
 */
import { useId } from "react";

export interface JsonSchema {
  type?: string;
  enum?: (string | null)[];
  const?: unknown;
  default?: unknown;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  description?: string;
  required?: string[];
}

export type Config = Record<string, unknown>;

/** Options set from the columns table (features, profile-only, id, kinds), not by this form. */
export const COLUMN_OPTIONS = new Set(["features", "profile", "id", "types"]);

const DENSITY = ["dbscan", "hdbscan", "optics"];
/** The algorithms an option applies to (absent: all). */
const APPLIES: Record<string, string[]> = {
  linkage: ["agglomerative"],
  eps: ["dbscan", "optics"],
  minSamples: DENSITY,
  minClusterSize: ["hdbscan", "optics"],
  clusterSelectionMethod: ["hdbscan"],
  clusterSelectionEpsilon: ["hdbscan"],
  allowSingleCluster: ["hdbscan"],
  metric: DENSITY,
  covarianceType: ["gmm"],
  regCovar: ["gmm"],
  opticsMethod: ["optics"],
  xi: ["optics"],
  maxEps: ["optics"],
  k: ["kmeans", "minibatch-kmeans", "agglomerative", "gmm"],
  kRange: ["kmeans", "minibatch-kmeans", "agglomerative", "gmm"],
  kChoice: ["kmeans", "minibatch-kmeans", "agglomerative", "gmm"],
  nInit: ["kmeans", "minibatch-kmeans", "gmm"],
  maxIter: ["kmeans", "minibatch-kmeans", "gmm"],
  batchSize: ["minibatch-kmeans"],
  tol: ["kmeans", "minibatch-kmeans", "gmm"],
};
/** Options shown folded (their defaults suit most data). */
const FOLDED = new Set(["kChoice", "preprocessing", "preprocessing.outliers", "preprocessing.oneHot", "preprocessing.pca"]);

export function getAt(obj: unknown, path: string[]): unknown {
  let x = obj;
  for (const p of path) {
    if (x === null || typeof x !== "object") return undefined;
    x = (x as Record<string, unknown>)[p];
  }
  return x;
}

/** A copy of obj with path set to value (undefined removes it; empty objects are removed too). */
export function setAt(obj: Config, path: string[], value: unknown): Config {
  const [head, ...rest] = path;
  const out: Config = { ...obj };
  if (rest.length === 0) {
    if (value === undefined) delete out[head];
    else out[head] = value;
    return out;
  }
  const child = setAt((out[head] as Config | undefined) ?? {}, rest, value);
  if (Object.keys(child).length === 0) delete out[head];
  else out[head] = child;
  return out;
}

function describe(schema: JsonSchema): string {
  return schema.description ?? "";
}

function label(path: string[]): string {
  return path[path.length - 1];
}

function show(v: unknown): string {
  if (v === undefined) return "unset";
  return typeof v === "string" ? v : JSON.stringify(v);
}

interface FieldProps {
  schema: JsonSchema;
  path: string[];
  config: Config;
  onChange: (path: string[], value: unknown) => void;
  columns: { name: string; kind: string }[];
  errorField: string | null;
}

function Help({ id, schema }: { id: string; schema: JsonSchema }) {
  const d = describe(schema);
  return (
    <p className="help" id={id}>
      {d}{" "}
      {(schema.default === undefined || typeof schema.default !== "object" || schema.default === null) && <span className="default">Default: {show(schema.default)}.</span>}
    </p>
  );
}

function numberAttrs(s: JsonSchema): { min?: number; max?: number; step: string } {
  const min = s.minimum ?? s.exclusiveMinimum;
  const max = s.maximum !== undefined && s.maximum < 1e15 ? s.maximum : s.exclusiveMaximum;
  return { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}), step: s.type === "integer" ? "1" : "any" };
}

function parseNumber(raw: string): number | undefined {
  if (raw.trim() === "") return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

export function Field(props: FieldProps) {
  const { schema, path, config, onChange, columns, errorField } = props;
  const uid = useId();
  const id = `cfg-${path.join("-")}`;
  const helpId = `${uid}-help`;
  const key = path.join(".");
  const value = getAt(config, path);
  const invalid = errorField === `config.${key}` || errorField === key;
  const common = { id, "aria-describedby": helpId, "aria-invalid": invalid || undefined };

  // An object: a fieldset of its properties (a nullable object: a checkbox turns it on).
  const objectSchema = schema.properties ? schema : schema.anyOf?.find((s) => s.properties);
  if (objectSchema?.properties) {
    const nullable = !!schema.anyOf?.some((s) => s.type === "null");
    const on = !nullable || (value !== undefined && value !== null);
    const body = (
      <>
        {nullable && (
          <div className="field check">
            <input type="checkbox" {...common} checked={on} onChange={(e) => onChange(path, e.target.checked ? defaults(objectSchema) : undefined)} />
            <label htmlFor={id}>use {label(path)}</label>
          </div>
        )}
        {on && Object.entries(objectSchema.properties).map(([k, s]) => <Field key={k} {...props} schema={s} path={[...path, k]} />)}
      </>
    );
    return (
      <fieldset className="group">
        <legend>{label(path)}</legend>
        <Help id={helpId} schema={schema} />
        {FOLDED.has(key) ? (
          <details>
            <summary>Show the {label(path)} options</summary>
            {body}
          </details>
        ) : body}
      </fieldset>
    );
  }

  // A record of column → values (ordinal): JSON text.
  if (schema.type === "object" && typeof schema.additionalProperties === "object") {
    return (
      <div className="field">
        <label htmlFor={id}>{label(path)}</label>
        <textarea {...common} rows={2} defaultValue={value === undefined ? "" : JSON.stringify(value)} placeholder="{}"
          onBlur={(e) => {
            const t = e.target.value.trim();
            if (!t) return onChange(path, undefined);
            try {
              onChange(path, JSON.parse(t));
            } catch {
              onChange(path, t); // sent as written: the API names what is wrong
            }
          }} />
        <Help id={helpId} schema={schema} />
      </div>
    );
  }

  // A list of columns: checkboxes of the numeric columns.
  if (schema.type === "array" && schema.items?.type === "string") {
    const chosen = (value as string[] | undefined) ?? [];
    const numeric = columns.filter((c) => c.kind === "numeric");
    return (
      <fieldset className="field">
        <legend>{label(path)}</legend>
        <Help id={helpId} schema={schema} />
        <div className="checks">
          {numeric.length === 0 && <span className="muted">no numeric column</span>}
          {numeric.map((c) => (
            <label key={c.name} className="check">
              <input type="checkbox" checked={chosen.includes(c.name)}
                onChange={(e) => {
                  const next = e.target.checked ? [...chosen, c.name] : chosen.filter((x) => x !== c.name);
                  onChange(path, next.length ? next : undefined);
                }} />
              {c.name}
            </label>
          ))}
        </div>
      </fieldset>
    );
  }

  // A number or a word ("auto"): a choice between the two.
  const word = schema.anyOf?.find((s) => typeof s.const === "string");
  const num = schema.anyOf?.find((s) => s.type === "number" || s.type === "integer");
  if (word && num) {
    const isWord = value === word.const || (value === undefined && schema.default === word.const);
    const shown = typeof value === "number" ? value : typeof schema.default === "number" ? schema.default : "";
    return (
      <fieldset className="field">
        <legend>{label(path)}</legend>
        <div className="inline">
          <label className="check">
            <input type="radio" name={id} checked={isWord} onChange={() => onChange(path, word.const)} /> {String(word.const)}
          </label>
          <label className="check">
            <input type="radio" name={id} checked={!isWord} onChange={() => onChange(path, typeof shown === "number" ? shown : (num.minimum ?? 1))} /> a number
          </label>
          <input type="number" {...common} aria-label={`${label(path)}: number`} {...numberAttrs(num)} disabled={isWord}
            value={isWord ? "" : shown} onChange={(e) => onChange(path, parseNumber(e.target.value) ?? e.target.value)} />
        </div>
        <Help id={helpId} schema={schema} />
      </fieldset>
    );
  }

  // Nullable scalars (a threshold that may be off): the scalar's input, empty meaning null.
  const nullable = !!schema.anyOf?.some((s) => s.type === "null");
  const base = schema.anyOf?.find((s) => s.type !== "null") ?? schema;

  if (base.enum) {
    const options = base.enum.filter((x): x is string => x !== null);
    const hasDefault = schema.default !== undefined && schema.default !== null;
    return (
      <div className="field">
        <label htmlFor={id}>{label(path)}</label>
        <select {...common} value={value === undefined || value === null ? "" : String(value)}
          onChange={(e) => onChange(path, e.target.value === "" ? (nullable && !hasDefault ? undefined : undefined) : e.target.value)}>
          <option value="">{hasDefault ? `default (${String(schema.default)})` : nullable ? "none" : "unset"}</option>
          {options.map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
        <Help id={helpId} schema={schema} />
      </div>
    );
  }
  if (base.type === "boolean") {
    const checked = value === undefined ? schema.default === true : value === true;
    return (
      <div className="field check">
        <input type="checkbox" {...common} checked={checked} onChange={(e) => onChange(path, e.target.checked === (schema.default === true) ? undefined : e.target.checked)} />
        <label htmlFor={id}>{label(path)}</label>
        <Help id={helpId} schema={schema} />
      </div>
    );
  }
  if (base.type === "number" || base.type === "integer") {
    return (
      <div className="field">
        <label htmlFor={id}>{label(path)}</label>
        <input type="number" {...common} {...numberAttrs(base)} placeholder={schema.default === undefined || schema.default === null ? (nullable ? "off" : "unset") : String(schema.default)}
          value={typeof value === "number" ? value : typeof value === "string" ? value : ""}
          onChange={(e) => onChange(path, e.target.value === "" ? undefined : parseNumber(e.target.value) ?? e.target.value)} />
        <Help id={helpId} schema={schema} />
      </div>
    );
  }
  if (base.type === "string") {
    const date = base.pattern === "^\\d{4}-\\d{2}-\\d{2}$";
    return (
      <div className="field">
        <label htmlFor={id}>{label(path)}</label>
        <input type={date ? "date" : "text"} {...common} value={typeof value === "string" ? value : ""} onChange={(e) => onChange(path, e.target.value === "" ? undefined : e.target.value)} />
        <Help id={helpId} schema={schema} />
      </div>
    );
  }
  return null;
}

/** An object's defaults (for a nullable object switched on): its required fields get their minimum. */
function defaults(s: JsonSchema): Config {
  const out: Config = {};
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    if (s.required?.includes(k)) out[k] = p.type === "number" || p.type === "integer" ? Math.max(2, p.minimum ?? 2) : p.default;
  }
  return out;
}

/** The options of the configuration that apply to the chosen algorithm, in the schema's order. */
export function ConfigFields(props: { schema: JsonSchema; config: Config; onChange: (path: string[], value: unknown) => void; columns: { name: string; kind: string }[]; errorField: string | null }) {
  const algorithm = (props.config.algorithm as string | undefined) ?? (props.schema.properties?.algorithm?.default as string) ?? "kmeans";
  const entries = Object.entries(props.schema.properties ?? {}).filter(([k]) => !COLUMN_OPTIONS.has(k) && (!APPLIES[k] || APPLIES[k].includes(algorithm)));
  // The algorithm and k first: what most runs change.
  const first = ["algorithm", "k"];
  entries.sort((a, b) => (first.indexOf(a[0]) + 1 || 99) - (first.indexOf(b[0]) + 1 || 99));
  return (
    <>
      {entries.map(([k, s]) => (
        <Field key={k} schema={s} path={[k]} config={props.config} onChange={props.onChange} columns={props.columns} errorField={props.errorField} />
      ))}
    </>
  );
}
