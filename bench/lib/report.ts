export type Target = { op: ">=" | "<="; value: number };

/** One figure of the table; `key` is its name in results.json. */
export type Figure = {
  /** The issue's numbering (1–6; 2.5 for the code step at scale, printed "2b", 3.5 for the Audit log, "3b"): the table is ordered by it. */
  section: number;
  key: string;
  label: string;
  value: number | null;
  unit: string;
  target?: Target;
  /** What the figure is made of (shown under the table, kept in results.json). */
  note?: string;
};

export function passes(figure: Figure): boolean | null {
  if (!figure.target || figure.value === null || Number.isNaN(figure.value)) return figure.target ? false : null;
  return figure.target.op === ">=" ? figure.value >= figure.target.value : figure.value <= figure.target.value;
}

function format(value: number | null, unit: string): string {
  if (value === null || Number.isNaN(value)) return "n/a";
  const digits = unit === "×" ? 2 : Number.isInteger(value) || Math.abs(value) >= 100 ? 0 : 1;
  return `${value.toFixed(digits)}${unit === "×" ? "" : ` ${unit}`}`.trim();
}

/** The table printed at the end of a run (and pasted into docs/PERFORMANCE.md). */
export function table(figures: Figure[]): string {
  const rows = figures.map((f) => {
    const ok = passes(f);
    return [f.label, format(f.value, f.unit), f.target ? `${f.target.op} ${format(f.target.value, f.unit)}` : "—", ok === null ? "" : ok ? "✅ pass" : "❌ FAIL"];
  });
  const head = ["Figure", "Value", "Target", ""];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c + " ".repeat(widths[i] - [...c].length)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
