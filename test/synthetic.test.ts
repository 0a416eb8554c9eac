import { describe, it, expect } from "vitest";
import { generateTransactions, generateCustomers, toCsv } from "../src/io/synthetic.js";

const DAY_MS = 86_400_000;

type Row = (string | number | null)[];

interface InvoiceSummary {
  no: string;
  date: string;
  customer: string | null;
  country: string;
  lines: Row[];
}

/** Groups consecutive rows by InvoiceNo, checking that each invoice's rows are contiguous. */
function invoicesOf(rows: Row[]): InvoiceSummary[] {
  const out: InvoiceSummary[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const no = r[0] as string;
    const last = out[out.length - 1];
    if (last && last.no === no) {
      last.lines.push(r);
      continue;
    }
    if (seen.has(no)) throw new Error(`rows of invoice ${no} are not contiguous`);
    seen.add(no);
    out.push({ no, date: r[4] as string, customer: r[6] as string | null, country: r[7] as string, lines: [r] });
  }
  return out;
}

function dayMs(text: string): number {
  return Date.parse(`${text.slice(0, 10)}T00:00:00Z`);
}

function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Minimal RFC 4180 parser, to check that toCsv output reads back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

describe("generateTransactions", () => {
  const log = generateTransactions();
  const invoices = invoicesOf(log.rows);
  const sales = invoices.filter((inv) => !inv.no.startsWith("C"));
  const cancellations = invoices.filter((inv) => inv.no.startsWith("C"));

  it("has the Online Retail columns", () => {
    expect(log.columns).toEqual([
      "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country",
    ]);
    expect(log.rows.filter((r) => r.length !== 8)).toEqual([]);
  });

  it("is deterministic for a seed and changes with the seed", () => {
    const a = generateTransactions({ customers: 200, seed: 5 });
    const b = generateTransactions({ customers: 200, seed: 5 });
    const c = generateTransactions({ customers: 200, seed: 6 });
    expect(b).toEqual(a);
    expect(c.rows).not.toEqual(a.rows);
    expect(c.rows.slice(0, 20)).not.toEqual(a.rows.slice(0, 20));
    // The defaults are a fixed seed too.
    expect(generateTransactions({ customers: 200 })).toEqual(generateTransactions({ customers: 200, seed: 42 }));
  });

  it("writes well-typed values", () => {
    const bad = log.rows.filter((r) => {
      const [no, code, desc, qty, date, price, customer, country] = r;
      return !(
        /^C?\d{6}$/.test(no as string) &&
        /^P\d{4}$/.test(code as string) &&
        typeof desc === "string" && desc.length > 0 &&
        Number.isInteger(qty) && qty !== 0 &&
        /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(date as string) &&
        typeof price === "number" && Math.round(price * 100) / 100 === price &&
        (customer === null || /^C\d{5}$/.test(customer as string)) &&
        typeof country === "string"
      );
    });
    expect(bad).toEqual([]);
  });

  it("draws from a product catalogue of ~150 gift-shop items with plausible prices", () => {
    const descByCode = new Map<string, Set<string>>();
    for (const r of log.rows) {
      const set = descByCode.get(r[1] as string) ?? new Set<string>();
      set.add(r[2] as string);
      descByCode.set(r[1] as string, set);
    }
    expect(descByCode.size).toBeGreaterThanOrEqual(120);
    expect(descByCode.size).toBeLessThanOrEqual(150);
    for (const set of descByCode.values()) expect(set.size).toBe(1);
    expect(new Set([...descByCode.values()].map((s) => [...s][0])).size).toBe(descByCode.size);
    const prices = log.rows.map((r) => r[5] as number).sort((a, b) => a - b);
    expect(prices[0]).toBeGreaterThan(0.2);
    expect(prices[prices.length - 1]).toBeLessThanOrEqual(40);
    const median = prices[Math.floor(prices.length / 2)];
    expect(median).toBeGreaterThan(1);
    expect(median).toBeLessThan(6);
    expect(prices[Math.floor(prices.length * 0.95)]).toBeGreaterThan(8);
  });

  it("stays within the requested date range and sorts rows by date then invoice number", () => {
    expect(log.rows[0][4] as string >= "2023-01-01 00:00:00").toBe(true);
    expect(log.rows[log.rows.length - 1][4] as string <= "2024-12-31 23:59:59").toBe(true);
    const outOfOrder: number[] = [];
    for (let i = 1; i < log.rows.length; i++) {
      const prev = log.rows[i - 1];
      const cur = log.rows[i];
      const byDate = (prev[4] as string).localeCompare(cur[4] as string);
      const byNo = Number((prev[0] as string).replace("C", "")) - Number((cur[0] as string).replace("C", ""));
      if (byDate > 0 || (byDate === 0 && byNo > 0)) outOfOrder.push(i);
    }
    expect(outOfOrder).toEqual([]);
  });

  it("numbers invoices with one sequence increasing with time", () => {
    const numbers = invoices.map((inv) => Number(inv.no.replace(/^C/, "")));
    const bad = invoices.filter((inv, i) => i > 0 && (numbers[i] <= numbers[i - 1] || inv.date < invoices[i - 1].date));
    expect(bad).toEqual([]);
    expect(invoices.length).toBeGreaterThan(5000);
  });

  it("keeps date, customer and country constant within an invoice, and country per customer", () => {
    const inconsistent = invoices.filter((inv) =>
      inv.lines.some((line) => line[4] !== inv.date || line[6] !== inv.customer || line[7] !== inv.country) ||
      new Set(inv.lines.map((line) => line[1])).size !== inv.lines.length);
    expect(inconsistent).toEqual([]);
    const countryOf = new Map<string, string>();
    const movers = new Set<string>();
    for (const inv of invoices) {
      if (inv.customer === null) continue;
      const known = countryOf.get(inv.customer);
      if (known !== undefined && known !== inv.country) movers.add(inv.customer);
      countryOf.set(inv.customer, inv.country);
    }
    expect([...movers]).toEqual([]);
    const countries = [...countryOf.values()];
    const uk = countries.filter((c) => c === "United Kingdom").length / countries.length;
    expect(uk).toBeGreaterThan(0.7);
    expect(uk).toBeLessThan(0.97);
    expect(new Set(countries).size).toBeGreaterThanOrEqual(5);
    // Multi-line invoices are the norm.
    const meanLines = sales.reduce((s, inv) => s + inv.lines.length, 0) / sales.length;
    expect(meanLines).toBeGreaterThan(4);
  });

  it("has a plausible share of guest checkouts without a customer id", () => {
    const nullRows = log.rows.filter((r) => r[6] === null).length / log.rows.length;
    expect(nullRows).toBeGreaterThan(0.08);
    expect(nullRows).toBeLessThan(0.3);
    const guestInvoices = sales.filter((inv) => inv.customer === null).length / sales.length;
    expect(guestInvoices).toBeGreaterThanOrEqual(0.15);
    expect(guestInvoices).toBeLessThanOrEqual(0.25);
  });

  it("has cancellations that reverse earlier lines of the same customer", () => {
    expect(cancellations.length).toBeGreaterThan(0);
    const share = cancellations.length / invoices.length;
    expect(share).toBeGreaterThan(0.01);
    expect(share).toBeLessThan(0.04);
    const salesByCustomer = new Map<string, InvoiceSummary[]>();
    for (const inv of sales) {
      if (inv.customer === null) continue;
      const list = salesByCustomer.get(inv.customer) ?? [];
      list.push(inv);
      salesByCustomer.set(inv.customer, list);
    }
    for (const c of cancellations) {
      expect(c.no).toMatch(/^C\d{6}$/);
      expect(c.customer).not.toBeNull();
      const earlier = (salesByCustomer.get(c.customer as string) ?? []).filter((inv) => inv.date < c.date);
      expect(earlier.length).toBeGreaterThan(0);
      // Some earlier invoice of this customer holds every cancelled line with the opposite quantity.
      const matched = earlier.some((inv) =>
        c.lines.every((line) =>
          inv.lines.some((orig) => orig[1] === line[1] && orig[3] === -(line[3] as number) && orig[5] === line[5])));
      expect(matched).toBe(true);
      expect(c.lines.every((line) => (line[3] as number) < 0)).toBe(true);
    }
    expect(sales.filter((inv) => inv.lines.some((line) => (line[3] as number) <= 0))).toEqual([]);
  });

  it("shows the hidden archetypes in frequency and recency", () => {
    const count = new Map<string, number>();
    const lastDay = new Map<string, number>();
    const firstDay = new Map<string, number>();
    for (const inv of sales) {
      if (inv.customer === null) continue;
      count.set(inv.customer, (count.get(inv.customer) ?? 0) + 1);
      const d = dayMs(inv.date);
      lastDay.set(inv.customer, Math.max(lastDay.get(inv.customer) ?? -Infinity, d));
      firstDay.set(inv.customer, Math.min(firstDay.get(inv.customer) ?? Infinity, d));
    }
    expect(count.size).toBe(1500);
    const counts = [...count.values()];
    const single = counts.filter((n) => n === 1).length / counts.length;
    const frequent = counts.filter((n) => n >= 20).length / counts.length;
    expect(single).toBeGreaterThan(0.2);
    expect(single).toBeLessThan(0.6);
    expect(frequent).toBeGreaterThan(0.05);
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(50);

    const end = dayMs("2024-12-31");
    const recency = [...lastDay.values()].map((d) => (end - d) / DAY_MS);
    expect(recency.filter((r) => r <= 30).length / recency.length).toBeGreaterThan(0.1);
    expect(recency.filter((r) => r > 180).length / recency.length).toBeGreaterThan(0.25);
    // Customers who bought often and then stopped: several invoices, silent for 3+ months.
    const lapsed = [...count.entries()].filter(([id, n]) => n >= 4 && (end - (lastDay.get(id) as number)) / DAY_MS > 90);
    expect(lapsed.length / counts.length).toBeGreaterThan(0.05);
    // Newcomers: first purchase within the last 60 days.
    const newcomers = [...firstDay.values()].filter((d) => (end - d) / DAY_MS <= 60).length / counts.length;
    expect(newcomers).toBeGreaterThan(0.05);

    // Basket sizes differ too: some customers buy wholesale quantities.
    const maxQty = new Map<string, number>();
    for (const inv of sales) {
      if (inv.customer === null) continue;
      for (const line of inv.lines) maxQty.set(inv.customer, Math.max(maxQty.get(inv.customer) ?? 0, line[3] as number));
    }
    const wholesale = [...maxQty.values()].filter((q) => q >= 100).length / maxQty.size;
    expect(wholesale).toBeGreaterThan(0.02);
    expect(wholesale).toBeLessThan(0.5);
  });

  it("has more trade before Christmas than in summer", () => {
    const month = (m: string) => sales.filter((inv) => inv.date.slice(0, 7) === m).length;
    expect(month("2024-11")).toBeGreaterThan(month("2024-07") * 1.15);
  });

  it("honours the options", () => {
    const small = generateTransactions({ customers: 50, seed: 3, start: "2024-03-01", end: "2024-06-30" });
    const ids = new Set(small.rows.map((r) => r[6]).filter((id) => id !== null));
    expect(ids.size).toBe(50);
    for (const r of small.rows) {
      expect(r[4] as string >= "2024-03-01 00:00:00").toBe(true);
      expect(r[4] as string <= "2024-06-30 23:59:59").toBe(true);
    }
    expect(() => generateTransactions({ start: "2024-02-30" })).toThrow(/YYYY-MM-DD/);
    expect(() => generateTransactions({ start: "2024-05-01", end: "2024-04-01" })).toThrow(/before/);
    expect(() => generateTransactions({ customers: 0 })).toThrow(/positive integer/);
  });
});

describe("generateCustomers", () => {
  const table = generateCustomers();
  const col = (name: string) => {
    const j = table.columns.indexOf(name);
    return table.rows.map((r) => r[j]);
  };

  it("has the documented columns and row count", () => {
    expect(table.columns).toEqual([
      "customer_id", "age", "gender", "region", "plan", "contract", "tenure_months", "monthly_spend",
      "total_spend", "support_calls", "uses_app", "signup_date", "satisfaction",
    ]);
    expect(table.rows).toHaveLength(1200);
    for (const r of table.rows) expect(r).toHaveLength(13);
    expect(generateCustomers({ customers: 10 }).rows).toHaveLength(10);
  });

  it("is deterministic for a seed and changes with the seed", () => {
    expect(generateCustomers({ seed: 11 })).toEqual(generateCustomers({ seed: 11 }));
    expect(generateCustomers({ seed: 12 }).rows).not.toEqual(generateCustomers({ seed: 11 }).rows);
    expect(generateCustomers()).toEqual(generateCustomers({ seed: 7 }));
  });

  it("has unique ids", () => {
    const ids = col("customer_id");
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^CUST-\d{5}$/);
  });

  it("has the right type in each column", () => {
    const isInt = (v: unknown) => typeof v === "number" && Number.isInteger(v);
    const is2dp = (v: unknown) => typeof v === "number" && Math.round(v * 100) / 100 === v;
    for (const v of col("age")) if (v !== null) expect(isInt(v) && (v as number) >= 18 && (v as number) <= 85).toBe(true);
    for (const v of col("gender")) expect(["Female", "Male"]).toContain(v);
    const regions = new Set(col("region"));
    expect(regions.size).toBeGreaterThanOrEqual(4);
    expect(regions.size).toBeLessThanOrEqual(5);
    for (const v of regions) expect(typeof v).toBe("string");
    for (const v of col("plan")) expect(["Basic", "Standard", "Premium"]).toContain(v);
    for (const v of col("contract")) expect(["Month-to-month", "One year", "Two year"]).toContain(v);
    for (const v of col("tenure_months")) expect(isInt(v) && (v as number) >= 0).toBe(true);
    for (const v of col("monthly_spend")) if (v !== null) expect(is2dp(v) && (v as number) > 0).toBe(true);
    for (const v of col("total_spend")) expect(is2dp(v) && (v as number) > 0).toBe(true);
    for (const v of col("support_calls")) expect(isInt(v) && (v as number) >= 0).toBe(true);
    for (const v of col("uses_app")) expect(typeof v).toBe("boolean");
    for (const v of col("signup_date")) expect(v).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const v of col("satisfaction")) if (v !== null) expect(isInt(v) && (v as number) >= 1 && (v as number) <= 10).toBe(true);
  });

  it("has a few percent of missing values in age, monthly_spend and satisfaction only", () => {
    const missing = (name: string) => col(name).filter((v) => v === null).length / table.rows.length;
    for (const name of ["age", "monthly_spend", "satisfaction"]) {
      expect(missing(name)).toBeGreaterThan(0.01);
      expect(missing(name)).toBeLessThan(0.1);
    }
    for (const name of table.columns.filter((c) => !["age", "monthly_spend", "satisfaction"].includes(c))) {
      expect(missing(name)).toBe(0);
    }
  });

  it("has signup dates consistent with tenure at 2024-12-31", () => {
    const tenure = col("tenure_months") as number[];
    const signup = col("signup_date") as string[];
    for (let i = 0; i < tenure.length; i++) {
      const [y, m, d] = signup[i].split("-").map(Number);
      // Whole months from signup to 2024-12-31 (day 31 is never before the signup day).
      expect(d).toBeGreaterThanOrEqual(1);
      expect((2024 - y) * 12 + (12 - m)).toBe(tenure[i]);
      expect(signup[i] <= "2024-12-31").toBe(true);
    }
  });

  it("has total_spend growing with tenure and monthly spend", () => {
    const tenure = col("tenure_months") as number[];
    const total = col("total_spend") as number[];
    expect(pearson(tenure, total)).toBeGreaterThan(0.5);
    const monthly = col("monthly_spend");
    const idx = monthly.map((v, i) => (v === null ? -1 : i)).filter((i) => i >= 0);
    const implied = idx.map((i) => total[i] / ((monthly[i] as number) * tenure[i]));
    implied.sort((a, b) => a - b);
    expect(implied[Math.floor(implied.length / 2)]).toBeGreaterThan(0.9);
    expect(implied[Math.floor(implied.length / 2)]).toBeLessThan(1.1);
  });

  it("has hidden structure linking several columns", () => {
    const rows = table.rows;
    const j = (name: string) => table.columns.indexOf(name);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const tenureBy = (contract: string) => mean(rows.filter((r) => r[j("contract")] === contract).map((r) => r[j("tenure_months")] as number));
    expect(tenureBy("Two year")).toBeGreaterThan(tenureBy("Month-to-month") * 1.8);
    const rated = rows.filter((r) => r[j("satisfaction")] !== null);
    expect(pearson(rated.map((r) => r[j("support_calls")] as number), rated.map((r) => r[j("satisfaction")] as number))).toBeLessThan(-0.4);
    const aged = rows.filter((r) => r[j("age")] !== null);
    const ageOf = (app: boolean) => mean(aged.filter((r) => r[j("uses_app")] === app).map((r) => r[j("age")] as number));
    expect(ageOf(false)).toBeGreaterThan(ageOf(true) + 10);
    const spent = rows.filter((r) => r[j("monthly_spend")] !== null);
    const spendOf = (plan: string) => mean(spent.filter((r) => r[j("plan")] === plan).map((r) => r[j("monthly_spend")] as number));
    expect(spendOf("Premium")).toBeGreaterThan(spendOf("Standard"));
    expect(spendOf("Standard")).toBeGreaterThan(spendOf("Basic"));
  });
});

describe("toCsv", () => {
  it("quotes fields per RFC 4180 and writes null and booleans plainly", () => {
    const text = [...toCsv({
      columns: ["name", "note", "n", "flag", "missing"],
      rows: [
        ['Smith, "Jo"', "plain", 1.5, true, null],
        ["line\nbreak", "", -3, false, null],
      ],
    })].join("");
    expect(text).toBe(
      'name,note,n,flag,missing\n"Smith, ""Jo""",plain,1.5,true,\n"line\nbreak",,-3,false,\n',
    );
    expect(parseCsv(text)[1]).toEqual(['Smith, "Jo"', "plain", "1.5", "true", ""]);
  });

  it("yields the header first, then chunks of about 1000 rows", () => {
    const rows = Array.from({ length: 2500 }, (_, i) => [i, `r${i}`]);
    const chunks = [...toCsv({ columns: ["i", "s"], rows })];
    expect(chunks[0]).toBe("i,s\n");
    expect(chunks).toHaveLength(4);
    expect(chunks[1].split("\n")).toHaveLength(1001);
    expect(chunks[3].endsWith("2499,r2499\n")).toBe(true);
    expect([...toCsv({ columns: ["a"], rows: [] })]).toEqual(["a\n"]);
  });

  it("round-trips the generated tables", () => {
    const log = generateTransactions({ customers: 100, seed: 9 });
    const parsed = parseCsv([...toCsv(log)].join(""));
    expect(parsed[0]).toEqual(log.columns);
    expect(parsed).toHaveLength(log.rows.length + 1);
    for (let i = 0; i < log.rows.length; i++) {
      expect(parsed[i + 1]).toEqual(log.rows[i].map((v) => (v === null ? "" : String(v))));
    }
    const customers = generateCustomers({ customers: 50 });
    const parsedCustomers = parseCsv([...toCsv(customers)].join(""));
    expect(parsedCustomers).toHaveLength(51);
    expect(parsedCustomers[1]).toEqual(customers.rows[0].map((v) => (v === null ? "" : String(v))));
  });
});
