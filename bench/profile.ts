/**
 * Reads a V8 CPU profile (.cpuprofile, as written by `node --cpu-prof`) and lists where the time
 * went: self time by function and by package or source folder. Run on its own as
 * `npx tsx bench/profile.ts <file.cpuprofile>`.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function or one group, in ms and as a share of the profile. */
export interface ProfileEntry {
  name: string;
  ms: number;
  pct: number;
}

/** Groups a script URL: a package in node_modules, a folder of ours, or Node's internals. */
function groupOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith("node:")) return "node internals";
  const ours = /\/(src|bench)\/(.+)\/[^/]+$/.exec(url) ?? /\/(src|bench)\/[^/]+$/.exec(url);
  if (ours) return ours[2] ? `${ours[1]}/${ours[2]}` : ours[1]!;
  return url;
}

/** Self time by function and by group, heaviest first. */
export function summarizeProfile(
  path: string,
  top = 15,
): { totalMs: number; functions: ProfileEntry[]; groups: ProfileEntry[] } {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const functions = new Map<string, number>();
  const groups = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const file = frame.url.split("/").slice(-2).join("/");
    const name =
      `${frame.functionName || "(anonymous)"} ${file ? `${file}:${frame.lineNumber + 1}` : ""}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const group = groupOf(frame.url, frame.functionName);
    groups.set(group, (groups.get(group) ?? 0) + ms);
  }
  const rank = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, pct: (ms / totalMs) * 100 }));
  return { totalMs, functions: rank(functions), groups: rank(groups) };
}

/** The summary as printable lines. */
export function renderProfile(path: string, top = 15): string {
  const summary = summarizeProfile(path, top);
  const rows = (entries: ProfileEntry[]) =>
    entries.map(
      (entry) =>
        `    ${entry.pct.toFixed(1).padStart(5)} %  ${entry.ms.toFixed(0).padStart(7)} ms  ${entry.name}`,
    );
  return [
    `${path} (${(summary.totalMs / 1000).toFixed(1)} s)`,
    "  self time by package or folder:",
    ...rows(summary.groups),
    "  self time by function:",
    ...rows(summary.functions),
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const path of process.argv.slice(2)) console.log(renderProfile(path));
}
