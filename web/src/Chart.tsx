/**
 * One chart of a run's report, drawn with vega-embed from its compiled Vega specification
 * (loaded with the Vega runtime, a chunk of its own, when the chart first comes into view).
 * Expressions go through Vega's interpreter, so the page's Content-Security-Policy needs no
 * eval. The text alternative: the chart's description as its label and its numbers in a table.
 */
import { useEffect, useRef, useState } from "react";
import type { ChartInfo } from "./report";
import { DataTable } from "./DataTable";

let vegaModules: Promise<[typeof import("vega-embed"), typeof import("vega-interpreter")]> | null = null;

export function loadVega(): Promise<[typeof import("vega-embed"), typeof import("vega-interpreter")]> {
  vegaModules ??= Promise.all([import("vega-embed"), import("vega-interpreter")]);
  return vegaModules;
}

/** Charts are drawn one after another (each holds the main thread while Vega builds it), so the first in view appears first. */
let drawing: Promise<unknown> = Promise.resolve();

export function Chart({ chart }: { chart: ChartInfo }) {
  const ref = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<"waiting" | "drawn" | "failed">("waiting");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let cancelled = false;
    let finalize: (() => void) | null = null;
    const draw = async () => {
      try {
        const [{ default: embed }, { expressionInterpreter }] = await loadVega();
        performance.mark("segmenta:vega-loaded");
        if (cancelled) return;
        const result = await embed(el, chart.spec as never, { mode: chart.mode ?? "vega", renderer: "svg", actions: false, ast: true, expr: expressionInterpreter, defaultStyle: false, tooltip: false });
        finalize = () => result.finalize();
        // The figure's label and table are the text alternative: the drawing itself is hidden from assistive technology.
        el.querySelector("svg")?.setAttribute("aria-hidden", "true");
        if (cancelled) finalize();
        else {
          performance.mark(`segmenta:chart:${chart.id}`);
          setState("drawn");
        }
      } catch (e) {
        if (!cancelled) {
          setState("failed");
          setError((e as Error).message);
        }
      }
    };
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        io.disconnect();
        drawing = drawing.then(draw, draw);
      }
    }, { rootMargin: "400px" });
    io.observe(el);
    return () => {
      cancelled = true;
      io.disconnect();
      finalize?.();
    };
  }, [chart]);

  return (
    <figure className="chart" aria-labelledby={`cap-${chart.id}`}>
      <div ref={ref} className="view" role="img" aria-label={chart.description} data-chart={chart.id} data-state={state} />
      {state === "failed" && <p className="error" role="alert">This chart could not be drawn ({error}); its numbers are in the table below.</p>}
      <figcaption id={`cap-${chart.id}`}>
        <strong>{chart.title}.</strong> {chart.description}
      </figcaption>
      {chart.table && (
        <details>
          <summary>The numbers behind this chart</summary>
          <DataTable table={chart.table} />
        </details>
      )}
    </figure>
  );
}
