// Turning measured rows into the markdown table printed to the console and the JSON document
// written to bench/results/peers.json. No timing or framework code here.

import type { Agreement, Timing } from "./measure.js";

export interface ResultRow {
  workload: string;
  framework: string;
  /** Absent when the framework failed this workload (see `error`). */
  timing?: Timing;
  gflops?: number;
  /** This framework's median divided by Koubai's: below 1 means faster than Koubai. */
  timeVsKoubai?: number;
  /** Comparison with the reference framework's outputs (absent for the reference itself). */
  agreement?: Agreement;
  error?: string;
}

export interface Report {
  date: string;
  node: string;
  platform: string;
  cpus: { count: number; model: string };
  loadavgStart: number[];
  loadavgEnd: number[];
  /** Framework name to the exact packages (and backend settings) that ran. */
  versions: Record<string, string>;
  reference: string;
  notes: string[];
  results: ResultRow[];
  totalSeconds: number;
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits);
}

function agreementCell(row: ResultRow, reference: string): string {
  if (row.error !== undefined) return `error: ${row.error}`;
  if (row.framework === reference) return "reference";
  if (row.agreement === undefined) return "unchecked";
  const { ok, worst } = row.agreement;
  return `${ok ? "yes" : "**NO**"} (${worst.relError.toExponential(1)} on ${worst.output})`;
}

/** One markdown table, workload × framework. */
export function markdownTable(report: Report): string {
  const lines = [
    "| workload | framework | median ms | min ms | runs | GFLOP/s | time / Koubai's | agrees with reference (max rel. error) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const row of report.results) {
    const t = row.timing;
    lines.push(
      `| ${row.workload} | ${row.framework} | ${fixed(t?.medianMs, 1)} | ${fixed(t?.minMs, 1)} | ${t?.repeats ?? "–"} | ${fixed(row.gflops, 2)} | ${fixed(row.timeVsKoubai, 2)} | ${agreementCell(row, report.reference)} |`,
    );
  }
  return lines.join("\n");
}

export function formatLoad(load: readonly number[]): string {
  return load.map((v) => v.toFixed(2)).join(" / ");
}

/** The header above the table: machine, load, versions, notes. */
export function markdownHeader(report: Report): string {
  const lines = [
    `Peer benchmark, ${report.date}: Node ${report.node} on ${report.platform}, ${report.cpus.count} × ${report.cpus.model}`,
    `Load average (1/5/15 min) at start ${formatLoad(report.loadavgStart)}, at end ${formatLoad(report.loadavgEnd)}`,
    "",
    ...Object.entries(report.versions).map(([name, version]) => `- ${name}: ${version}`),
    ...report.notes.map((note) => `- ${note}`),
  ];
  return lines.join("\n");
}
