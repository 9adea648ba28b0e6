// CI gate: no high or critical advisory in the packages that ship (npm audit --omit=dev).
// Fails on findings. When the registry's advisory service cannot be reached (some mirrors
// answer 405), it says so loudly and does not fail: no answer is not a finding.
import { spawnSync } from "node:child_process";

const run = spawnSync("npm", ["audit", "--omit=dev", "--json"], { encoding: "utf8" });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  report = null;
}
if (!report || report.error || !report.metadata) {
  const reason = report?.message ?? report?.error?.summary ?? "no report";
  console.warn(`[audit] WARNING: npm's advisory service could not be reached (${reason.trim()}); production dependencies NOT audited.`);
  process.exit(0);
}
const counts = report.metadata.vulnerabilities ?? {};
const serious = (counts.high ?? 0) + (counts.critical ?? 0);
for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) {
  if (v.severity === "high" || v.severity === "critical") console.error(`[audit] ${v.severity}: ${name} ${v.range ?? ""}`);
}
console.log(`[audit] production dependencies: ${JSON.stringify(counts)}`);
process.exit(serious > 0 ? 1 : 0);
