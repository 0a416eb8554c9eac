/** A Dataset from columns of values: those named in `numeric` are numeric (null → NaN), the others categorical. */
import type { Column, Dataset } from "../../src/core/dataset.js";

export function dataset(cols: Record<string, (number | string | null)[]>, numeric: string[], source = "fixture"): Dataset {
  const columns: Column[] = Object.entries(cols).map(([name, values]) =>
    numeric.includes(name)
      ? { name, kind: "numeric", values: Float64Array.from(values, (v) => (v === null ? NaN : Number(v))) }
      : { name, kind: "categorical", values: values.map((v) => (v === null ? null : String(v))) },
  );
  return { source, rows: columns[0].values.length, columns };
}
