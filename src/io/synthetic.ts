/**
 * Seeded generators of realistic demo data for the segmentation tool.
 *
 * - `generateTransactions` writes an invoice-line log shaped like the UCI "Online Retail"
 *   export (one row per product line), produced by customers that belong to hidden
 *   behavioural archetypes, plus guest checkouts and cancellations.
 * - `generateCustomers` writes a mixed-type customer table like a subscription/telecom
 *   export, drawn from a few hidden personas so that clustering has structure to find.
 * - `toCsv` streams either table as CSV text.
 *
 * Pure: no Node imports, all randomness from the seeded `Random`, so the same seed always
 * gives the same output on every platform.
 */
import { Random } from "../core/random.js";
import { InputError } from "../core/errors.js";

export type TransactionLog = { columns: string[]; rows: (string | number | null)[][] };
export type CustomerTable = { columns: string[]; rows: (string | number | boolean | null)[][] };

export interface TransactionOptions {
  /** Number of registered customers (default 1500). */
  customers?: number;
  /** Seed of the random stream (default 42). */
  seed?: number;
  /** First day of the log, "YYYY-MM-DD" (default "2023-01-01"). */
  start?: string;
  /** Last day of the log, inclusive, "YYYY-MM-DD" (default "2024-12-31"). */
  end?: string;
}

export interface CustomerOptions {
  /** Number of customers (default 1200). */
  customers?: number;
  /** Seed of the random stream (default 7). */
  seed?: number;
}

export const TRANSACTION_COLUMNS: readonly string[] = [
  "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country",
];

export const CUSTOMER_COLUMNS: readonly string[] = [
  "customer_id", "age", "gender", "region", "plan", "contract", "tenure_months", "monthly_spend",
  "total_spend", "support_calls", "uses_app", "signup_date", "satisfaction",
];

const DAY_MS = 86_400_000;
const DAY_S = 86_400;

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function checkCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InputError(`option "${name}" must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function checkSeed(value: number): number {
  if (!Number.isFinite(value)) throw new InputError(`option "seed" must be a finite number, got ${String(value)}`);
  return value;
}

/** Milliseconds since the epoch of a "YYYY-MM-DD" day at 00:00 UTC. */
function parseDay(name: string, text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m) {
    const y = Number(m[1]);
    const mo = Number(m[2]) - 1;
    const d = Number(m[3]);
    const ms = Date.UTC(y, mo, d);
    const back = new Date(ms);
    if (back.getUTCFullYear() === y && back.getUTCMonth() === mo && back.getUTCDate() === d) return ms;
  }
  throw new InputError(`option "${name}" must be a date written as YYYY-MM-DD, got "${text}"`);
}

/** "YYYY-MM-DD HH:MM:SS" of a UTC timestamp in milliseconds. */
function formatDateTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** Cumulative sums of weights, for repeated weighted draws by binary search. */
function cumulative(weights: number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) {
    s += weights[i];
    out[i] = s;
  }
  return out;
}

function drawCumulative(rng: Random, cum: Float64Array): number {
  const r = rng.random() * cum[cum.length - 1];
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function pick<T>(rng: Random, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

function pickWeighted<T>(rng: Random, items: readonly (readonly [T, number])[]): T {
  return items[rng.choice(items.map((e) => e[1]))][0];
}

/** Log-normal draw with the given median and log-scale spread. */
function logNormal(rng: Random, median: number, sigma: number): number {
  return median * Math.exp(rng.normal(0, sigma));
}

// ---------------------------------------------------------------------------------------
// Product catalogue
// ---------------------------------------------------------------------------------------

interface Product {
  code: string;
  description: string;
  price: number;
  festive: boolean;
}

const COLOURS = ["RED", "BLUE", "PINK", "GREEN", "IVORY", "BLACK", "WHITE", "PASTEL", "GOLD", "SILVER", "CREAM", "LILAC"];
const STYLES = ["VINTAGE", "RETRO", "RUSTIC", "SCANDI", "FRENCH", "ENGLISH GARDEN", "ANTIQUE", "REGENCY", "BOHO", "COUNTRY KITCHEN"];
const MOTIFS = [
  "HEART", "STAR", "BIRD", "ROSE", "POLKADOT", "STRIPE", "OWL", "CAT", "DOG", "BUTTERFLY", "DAISY", "LEMON",
  "STRAWBERRY", "ANCHOR", "PAISLEY", "FLORAL", "UNICORN", "BUNTING", "LACE", "HONEYBEE",
];
const FESTIVE_MOTIFS = ["CHRISTMAS", "SNOWFLAKE", "REINDEER", "ROBIN", "ANGEL", "GINGERBREAD"];
/** [singular, plural (null: not sold in sets), typical price]. */
const ITEMS: readonly (readonly [string, string | null, number])[] = [
  ["MUG", "MUGS", 2.1], ["TEA TOWEL", "TEA TOWELS", 1.6], ["CANDLE HOLDER", "CANDLE HOLDERS", 3.4],
  ["LUNCH BAG", null, 1.9], ["CAKE STAND", null, 9.9], ["JUMBO SHOPPER", null, 2.1],
  ["PHOTO FRAME", "PHOTO FRAMES", 3.7], ["GIFT WRAP", null, 0.45], ["GREETING CARD", "GREETING CARDS", 0.45],
  ["PAPER NAPKINS", null, 0.85], ["NOTEBOOK", "NOTEBOOKS", 1.65], ["WALL CLOCK", null, 8.5],
  ["CUSHION COVER", "CUSHION COVERS", 3.9], ["DOORSTOP", null, 4.5], ["HOT WATER BOTTLE", null, 4.9],
  ["BIRDHOUSE", null, 7.5], ["PLANTER", "PLANTERS", 5.9], ["STORAGE TIN", "STORAGE TINS", 2.9],
  ["TRINKET BOX", "TRINKET BOXES", 1.25], ["KEYRING", "KEYRINGS", 0.65], ["HAIR CLIP", "HAIR CLIPS", 0.42],
  ["STRING OF LIGHTS", null, 5.5], ["LANTERN", "LANTERNS", 6.9], ["TEAPOT", null, 12.5],
  ["CERAMIC BOWL", "CERAMIC BOWLS", 2.5], ["COASTER", "COASTERS", 0.55], ["CHALKBOARD", null, 3.9],
  ["DOOR MAT", null, 7.9], ["WASH BAG", null, 2.5], ["PARASOL", null, 2.95], ["PICNIC BASKET", null, 16.5],
  ["WOODEN CABINET", null, 29.5], ["HANGING ORNAMENT", "HANGING ORNAMENTS", 0.85], ["CAKE CASES", null, 0.55],
  ["WATERING CAN", null, 3.25], ["JAM JAR", "JAM JARS", 1.45],
];

function makeCatalogue(rng: Random, count: number): Product[] {
  const seen = new Set<string>();
  const products: Product[] = [];
  let attempts = 0;
  while (products.length < count && attempts < count * 100) {
    attempts++;
    const [item, plural, basePrice] = pick(rng, ITEMS);
    const festive = rng.random() < 0.12;
    const motif = festive ? pick(rng, FESTIVE_MOTIFS) : pick(rng, MOTIFS);
    let description: string;
    let priceFactor = 1;
    const u = rng.random();
    if (u < 0.4) description = `${pick(rng, COLOURS)} ${motif} ${item}`;
    else if (u < 0.65) description = `${pick(rng, STYLES)} ${motif} ${item}`;
    else if (u < 0.8 && plural !== null) {
      const n = pick(rng, [2, 3, 4, 6, 12]);
      description = `SET OF ${n} ${motif} ${plural}`;
      priceFactor = Math.pow(n, 0.75);
    } else description = `${motif} ${item}`;
    if (seen.has(description)) continue;
    seen.add(description);
    // Log-normal around the item's typical price, rounded to retail-looking 5p steps.
    const raw = clamp(logNormal(rng, basePrice * priceFactor, 0.35), 0.29, 39.95);
    const price = round2(Math.max(0.29, Math.round(raw * 20) / 20 - (raw > 1 ? 0.05 : 0)));
    products.push({ code: `P${1001 + products.length}`, description, price, festive });
  }
  return products;
}

// ---------------------------------------------------------------------------------------
// Customer archetypes (hidden: they shape the log but are not written to it)
// ---------------------------------------------------------------------------------------

type ArchetypeName = "champion" | "loyal" | "bigSpender" | "new" | "lapsed" | "oneTime";

interface Archetype {
  name: ArchetypeName;
  share: number;
  /** Invoices per 30 days (Poisson rate before the per-customer gamma factor). */
  ratePer30: number;
  /** Mean number of lines per invoice. */
  lines: number;
  /** Median quantity per line for a product costing about 3. */
  quantity: number;
  /** Probability that a customer lives outside the United Kingdom. */
  abroad: number;
}

/** Shares sum to 1; one-time and lapsed customers are the common cases, as in real shops. */
const ARCHETYPES: readonly Archetype[] = [
  { name: "champion", share: 0.08, ratePer30: 2.0, lines: 16, quantity: 10, abroad: 0.12 },
  { name: "loyal", share: 0.17, ratePer30: 0.9, lines: 11, quantity: 6, abroad: 0.12 },
  { name: "bigSpender", share: 0.05, ratePer30: 0.3, lines: 24, quantity: 60, abroad: 0.4 },
  { name: "new", share: 0.1, ratePer30: 1.2, lines: 9, quantity: 5, abroad: 0.15 },
  { name: "lapsed", share: 0.25, ratePer30: 1.1, lines: 10, quantity: 6, abroad: 0.15 },
  { name: "oneTime", share: 0.35, ratePer30: 0, lines: 7, quantity: 4, abroad: 0.15 },
];

const GUEST = { lines: 8, quantity: 3, abroad: 0.08 };
/** Share of all (non-cancellation) invoices that are guest checkouts without a customer id. */
const GUEST_SHARE = 0.2;
/** Probability that a customer invoice is later (partly) cancelled. */
const CANCEL_RATE = 0.025;

const FOREIGN_COUNTRIES: readonly (readonly [string, number])[] = [
  ["Germany", 0.22], ["France", 0.2], ["EIRE", 0.16], ["Netherlands", 0.1], ["Spain", 0.09],
  ["Belgium", 0.08], ["Switzerland", 0.06], ["Portugal", 0.04], ["Norway", 0.03], ["Australia", 0.02],
];

/** Pack sizes that quantities snap to, like a wholesaler's inner and outer cartons. */
const PACK_SIZES = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 18, 20, 24, 25, 32, 36, 48, 50, 60, 72, 96, 100, 120, 144, 192, 200, 240, 288, 360, 480, 576, 720];
const LOG_PACKS = PACK_SIZES.map(Math.log);

function snapToPack(q: number): number {
  if (q < 1.5) return 1;
  const lq = Math.log(q);
  let best = 0;
  for (let i = 1; i < LOG_PACKS.length; i++) {
    if (Math.abs(LOG_PACKS[i] - lq) < Math.abs(LOG_PACKS[best] - lq)) best = i;
  }
  return PACK_SIZES[best];
}

interface Buyer {
  id: string | null;
  country: string;
  lines: number;
  quantity: number;
  favourites: number[];
}

interface Line {
  product: number;
  quantity: number;
  price: number;
}

interface Invoice {
  /** Seconds since the start of the first day. */
  t: number;
  /** Creation order, the tie-breaker for identical timestamps. */
  seq: number;
  buyer: Buyer;
  lines: Line[];
  cancellation: boolean;
}

/**
 * A seeded invoice-line log like the UCI Online Retail export: one row per product line,
 * columns {@link TRANSACTION_COLUMNS}, rows sorted by InvoiceDate then InvoiceNo.
 */
export function generateTransactions(options: TransactionOptions = {}): TransactionLog {
  const customerCount = checkCount("customers", options.customers ?? 1500);
  const seed = checkSeed(options.seed ?? 42);
  const startMs = parseDay("start", options.start ?? "2023-01-01");
  const endMs = parseDay("end", options.end ?? "2024-12-31");
  if (endMs < startMs) throw new InputError(`option "end" (${options.end}) is before "start" (${options.start ?? "2023-01-01"})`);
  const days = Math.round((endMs - startMs) / DAY_MS) + 1;

  const root = new Random(seed);
  const catalogueRng = new Random(root.nextUint32());
  const rng = new Random(root.nextUint32());

  const catalogue = makeCatalogue(catalogueRng, 150);
  // Zipf-like popularity over a random order; festive lines sell mostly in Q4.
  const popularityOrder = catalogueRng.shuffle(catalogue.map((_, i) => i));
  const popularity = new Array<number>(catalogue.length);
  popularityOrder.forEach((p, rank) => (popularity[p] = 1 / Math.pow(rank + 4, 0.9)));
  const offSeasonCum = cumulative(catalogue.map((p, i) => popularity[i] * (p.festive ? 0.25 : 1)));
  const festiveCum = cumulative(catalogue.map((p, i) => popularity[i] * (p.festive ? 4 : 1)));

  // Daily intensity: weekday pattern times a pre-Christmas bump and a holiday lull.
  const WEEKDAY = [0.6, 1.0, 1.1, 1.1, 1.25, 0.9, 0.3]; // Sunday..Saturday
  const intensity = new Float64Array(days);
  const festiveDay = new Uint8Array(days);
  let maxIntensity = 0;
  for (let d = 0; d < days; d++) {
    const date = new Date(startMs + d * DAY_MS);
    const month = date.getUTCMonth();
    const dom = date.getUTCDate();
    let season = 1;
    if (month === 8) season = 1.1;
    else if (month === 9) season = 1.3;
    else if (month === 10) season = 1.6;
    else if (month === 11) season = dom <= 15 ? 1.4 : dom <= 22 ? 0.8 : 0.15;
    else if (month === 0 && dom <= 3) season = 0.15;
    intensity[d] = WEEKDAY[date.getUTCDay()] * season;
    festiveDay[d] = month >= 9 ? 1 : 0;
    if (intensity[d] > maxIntensity) maxIntensity = intensity[d];
  }

  const acceptDay = (d: number): boolean => rng.random() * maxIntensity < intensity[d];
  /** A day in [lo, hi) drawn with the daily intensity (rejection sampling). */
  const seasonalDay = (lo: number, hi: number): number => {
    const a = clamp(Math.floor(lo), 0, days - 1);
    const b = clamp(Math.ceil(hi), a + 1, days);
    for (let tries = 0; tries < 200; tries++) {
      const d = a + rng.int(b - a);
      if (acceptDay(d)) return d;
    }
    return a + rng.int(b - a);
  };
  /** Seconds after midnight during shop hours, peaking around lunchtime. */
  const timeOfDay = (): number => {
    let hours: number;
    do hours = rng.normal(12.6, 2.4);
    while (hours < 7 || hours >= 21);
    return Math.floor(hours * 3600);
  };

  let seq = 0;
  const invoices: Invoice[] = [];

  const makeLines = (buyer: Buyer, day: number): Line[] => {
    const cum = festiveDay[day] ? festiveCum : offSeasonCum;
    const n = clamp(1 + rng.poisson(Math.max(0, buyer.lines - 1)), 1, 60);
    const chosen = new Set<number>();
    const lines: Line[] = [];
    for (let k = 0; k < n * 3 && lines.length < n; k++) {
      const p = buyer.favourites.length > 0 && rng.random() < 0.35 ? pick(rng, buyer.favourites) : drawCumulative(rng, cum);
      if (chosen.has(p)) continue;
      chosen.add(p);
      const product = catalogue[p];
      // Cheap items are bought by the dozen, dear ones singly.
      const priceFactor = clamp(Math.pow(3 / product.price, 0.5), 0.3, 4);
      const quantity = snapToPack(logNormal(rng, buyer.quantity * priceFactor, 0.55));
      const price = quantity >= 100 ? round2(product.price * 0.85) : product.price;
      lines.push({ product: p, quantity, price });
    }
    return lines;
  };

  const addInvoice = (buyer: Buyer, day: number): void => {
    const d = clamp(Math.floor(day), 0, days - 1);
    invoices.push({ t: d * DAY_S + timeOfDay(), seq: seq++, buyer, lines: makeLines(buyer, d), cancellation: false });
  };

  const countryFor = (abroad: number): string => (rng.random() < abroad ? pickWeighted(rng, FOREIGN_COUNTRIES) : "United Kingdom");

  // Registered customers.
  const shares = ARCHETYPES.map((a) => a.share);
  const recentWindow = Math.min(60, days);
  for (let c = 0; c < customerCount; c++) {
    const arch = ARCHETYPES[rng.choice(shares)];
    const favourites = Array.from({ length: 6 + rng.int(8) }, () => drawCumulative(rng, offSeasonCum));
    const buyer: Buyer = {
      id: `C${pad(c + 1, 5)}`,
      country: countryFor(arch.abroad),
      lines: arch.lines * (rng.gamma(4) / 4),
      quantity: arch.quantity * (rng.gamma(3) / 3),
      favourites,
    };
    if (arch.name === "oneTime") {
      addInvoice(buyer, seasonalDay(0, days));
      continue;
    }
    // Active window [first, last] in fractional days, and whether the last day is a purchase.
    let first: number;
    let last: number;
    let forceLast = false;
    switch (arch.name) {
      case "champion":
        first = rng.uniform(0, 0.4 * days);
        last = days;
        break;
      case "loyal":
        first = rng.uniform(0, 0.6 * days);
        last = days - rng.uniform(0, Math.min(30, 0.1 * days));
        break;
      case "bigSpender":
        first = rng.uniform(0, 0.7 * days);
        last = days - rng.exponential(1 / Math.min(90, 0.15 * days));
        forceLast = true;
        break;
      case "new":
        first = days - rng.uniform(0, recentWindow);
        last = days;
        break;
      case "lapsed":
      default:
        last = Math.max(0.15 * days, days - rng.uniform(Math.min(90, 0.2 * days), Math.min(420, 0.6 * days)));
        first = Math.max(0, last - rng.uniform(120, 360));
        forceLast = true;
        break;
    }
    first = clamp(first, 0, days - 1e-6);
    last = clamp(last, first, days);
    addInvoice(buyer, seasonalDay(first, first + 1));
    // Poisson process by thinning: candidates at the peak rate, kept with the day's intensity.
    const rate = (arch.ratePer30 / 30) * (rng.gamma(2) / 2);
    const peakRate = rate * maxIntensity;
    if (peakRate > 0) {
      let t = first + rng.exponential(peakRate);
      while (t < last) {
        const d = Math.floor(t);
        if (acceptDay(d)) addInvoice(buyer, d);
        t += rng.exponential(peakRate);
      }
    }
    if (forceLast && last - first >= 1) addInvoice(buyer, Math.min(Math.floor(last), days - 1));
  }

  // Guest checkouts: a separate pool of invoices without a customer id.
  const customerInvoices = invoices.length;
  const guestCount = Math.round((customerInvoices * GUEST_SHARE) / (1 - GUEST_SHARE));
  for (let g = 0; g < guestCount; g++) {
    const buyer: Buyer = {
      id: null,
      country: countryFor(GUEST.abroad),
      lines: GUEST.lines * (rng.gamma(3) / 3),
      quantity: GUEST.quantity * (rng.gamma(3) / 3),
      favourites: [],
    };
    addInvoice(buyer, seasonalDay(0, days));
  }

  // Cancellations: some customer invoices are partly reversed a few days later.
  for (let i = 0; i < customerInvoices; i++) {
    if (rng.random() >= CANCEL_RATE) continue;
    const original = invoices[i];
    const origDay = Math.floor(original.t / DAY_S);
    let day = origDay + 1 + rng.poisson(3);
    if (day > days - 1) {
      if (origDay >= days - 1) continue;
      day = days - 1;
    }
    const lines = original.lines.filter(() => rng.random() < 0.6);
    if (lines.length === 0) lines.push(pick(rng, original.lines));
    invoices.push({
      t: day * DAY_S + timeOfDay(),
      seq: seq++,
      buyer: original.buyer,
      lines: lines.map((l) => ({ product: l.product, quantity: -l.quantity, price: l.price })),
      cancellation: true,
    });
  }

  // One invoice-number sequence across the whole log, increasing with time.
  invoices.sort((a, b) => a.t - b.t || a.seq - b.seq);
  let number = Math.min(500_000 + rng.int(40_000), Math.max(100_000, 999_999 - 3 * invoices.length));
  const rows: (string | number | null)[][] = [];
  for (const inv of invoices) {
    number += rng.random() < 0.03 ? 2 + rng.int(3) : 1;
    const invoiceNo = inv.cancellation ? `C${number}` : String(number);
    const date = formatDateTime(startMs + inv.t * 1000);
    for (const line of inv.lines) {
      const product = catalogue[line.product];
      rows.push([invoiceNo, product.code, product.description, line.quantity, date, line.price, inv.buyer.id, inv.buyer.country]);
    }
  }
  return { columns: [...TRANSACTION_COLUMNS], rows };
}

// ---------------------------------------------------------------------------------------
// Customer table
// ---------------------------------------------------------------------------------------

type Plan = "Basic" | "Standard" | "Premium";
type Contract = "Month-to-month" | "One year" | "Two year";

interface Persona {
  share: number;
  age: [mean: number, sd: number];
  plan: readonly (readonly [Plan, number])[];
  contract: readonly (readonly [Contract, number])[];
  /** Mean tenure in months (gamma with shape 2.5). */
  tenure: number;
  /** Multiplier on the plan's list price. */
  spend: number;
  supportCalls: number;
  app: number;
  satisfaction: number;
  region: readonly number[];
}

const REGIONS = ["North", "South", "East", "West", "Central"];
const PLAN_PRICE: Record<Plan, number> = { Basic: 29, Standard: 54, Premium: 89 };
/** Reference date of the export: tenure is counted back from here. */
const SNAPSHOT = { year: 2024, month: 11, day: 31 };

const PERSONAS: readonly Persona[] = [
  // Young, app-first, low spend, month-to-month.
  {
    share: 0.32, age: [27, 5], tenure: 10, spend: 0.9, supportCalls: 0.8, app: 0.92, satisfaction: 7.2,
    plan: [["Basic", 0.62], ["Standard", 0.33], ["Premium", 0.05]],
    contract: [["Month-to-month", 0.82], ["One year", 0.15], ["Two year", 0.03]],
    region: [0.15, 0.2, 0.15, 0.15, 0.35],
  },
  // Established premium families on long contracts.
  {
    share: 0.26, age: [44, 7], tenure: 46, spend: 1.12, supportCalls: 1.0, app: 0.65, satisfaction: 8.1,
    plan: [["Basic", 0.05], ["Standard", 0.3], ["Premium", 0.65]],
    contract: [["Month-to-month", 0.08], ["One year", 0.3], ["Two year", 0.62]],
    region: [0.2, 0.3, 0.2, 0.2, 0.1],
  },
  // Price-sensitive seniors: cheap plans, long tenure, rarely on the app.
  {
    share: 0.23, age: [69, 7], tenure: 55, spend: 0.85, supportCalls: 1.6, app: 0.12, satisfaction: 7.0,
    plan: [["Basic", 0.72], ["Standard", 0.25], ["Premium", 0.03]],
    contract: [["Month-to-month", 0.2], ["One year", 0.5], ["Two year", 0.3]],
    region: [0.3, 0.15, 0.25, 0.2, 0.1],
  },
  // Heavy support users about to churn: mid-price, short tenure, unhappy.
  {
    share: 0.19, age: [38, 11], tenure: 13, spend: 1.15, supportCalls: 6.5, app: 0.4, satisfaction: 3.2,
    plan: [["Basic", 0.25], ["Standard", 0.55], ["Premium", 0.2]],
    contract: [["Month-to-month", 0.85], ["One year", 0.12], ["Two year", 0.03]],
    region: [0.2, 0.2, 0.2, 0.25, 0.15],
  },
];

const MISSING = { age: 0.03, monthly_spend: 0.04, satisfaction: 0.05 };

/**
 * A seeded customer table of mixed types (columns {@link CUSTOMER_COLUMNS}) drawn from four
 * hidden personas, with a few percent of missing `age`, `monthly_spend` and `satisfaction`.
 */
export function generateCustomers(options: CustomerOptions = {}): CustomerTable {
  const count = checkCount("customers", options.customers ?? 1200);
  const rng = new Random(checkSeed(options.seed ?? 7));
  const shares = PERSONAS.map((p) => p.share);
  const rows: (string | number | boolean | null)[][] = [];
  for (let i = 0; i < count; i++) {
    const persona = PERSONAS[rng.choice(shares)];
    const age = Math.round(clamp(rng.normal(persona.age[0], persona.age[1]), 18, 85));
    const gender = rng.random() < 0.5 ? "Female" : "Male";
    const region = REGIONS[rng.choice(persona.region)];
    const plan = pickWeighted(rng, persona.plan);
    const contract = pickWeighted(rng, persona.contract);
    const tenure = Math.round(clamp(rng.gamma(2.5) * (persona.tenure / 2.5), 1, 96));
    const monthly = round2(clamp(logNormal(rng, PLAN_PRICE[plan] * persona.spend, 0.12), 9.99, 250));
    // Bills vary month to month (price changes, add-ons), so the total is noisy.
    const total = round2(Math.max(monthly, monthly * tenure * clamp(rng.normal(1, 0.08), 0.7, 1.3)));
    const calls = rng.poisson(persona.supportCalls);
    const usesApp = rng.random() < persona.app;
    const day = 1 + rng.int(28);
    const signup = new Date(Date.UTC(SNAPSHOT.year, SNAPSHOT.month - tenure, day)).toISOString().slice(0, 10);
    const satisfaction = Math.round(clamp(rng.normal(persona.satisfaction - 0.3 * Math.max(0, calls - 2), 1.2), 1, 10));
    rows.push([
      `CUST-${pad(i + 1, 5)}`,
      rng.random() < MISSING.age ? null : age,
      gender,
      region,
      plan,
      contract,
      tenure,
      rng.random() < MISSING.monthly_spend ? null : monthly,
      total,
      calls,
      usesApp,
      signup,
      rng.random() < MISSING.satisfaction ? null : satisfaction,
    ]);
  }
  return { columns: [...CUSTOMER_COLUMNS], rows };
}

// ---------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------

const CSV_CHUNK_ROWS = 1000;

function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(values: readonly unknown[]): string {
  return values.map(csvField).join(",") + "\n";
}

/**
 * The table as CSV text in chunks: the header line first, then one chunk per
 * {@link CSV_CHUNK_ROWS} rows. RFC 4180 quoting, null as an empty field, "\n" line endings.
 */
export function* toCsv(table: { columns: string[]; rows: unknown[][] }): Iterable<string> {
  yield csvLine(table.columns);
  for (let i = 0; i < table.rows.length; i += CSV_CHUNK_ROWS) {
    let chunk = "";
    const stop = Math.min(table.rows.length, i + CSV_CHUNK_ROWS);
    for (let r = i; r < stop; r++) chunk += csvLine(table.rows[r]);
    yield chunk;
  }
}
