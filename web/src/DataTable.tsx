import type { Table } from "./report";

/** A table of the report (its caption, header and rows), numbers right-aligned. */
export function DataTable({ table }: { table: Table }) {
  return (
    <div className="table-wrap">
      <table>
        {table.caption && <caption>{table.caption}</caption>}
        <thead>
          <tr>
            {table.head.map((h, j) => (
              <th key={j} scope="col" className={table.numeric[j] ? "num" : undefined}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((r, i) => (
            <tr key={i}>
              {r.map((v, j) => (
                <td key={j} className={table.numeric[j] ? "num" : undefined}>{v}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
