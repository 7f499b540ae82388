/**
 * Reads V8 heap snapshots (the `.heapsnapshot` JSON that the inspector writes) and answers what
 * the soak asks of them: how many objects of each kind the heap holds and their size, which of
 * the objects first seen in one snapshot are still alive in a later one, and one chain of
 * retainers from such an object up to a root, which names what keeps it.
 *
 * V8 gives every JavaScript heap object an odd id the first time a snapshot sees it and keeps it
 * for the object's life (ids only grow; the embedder's native nodes get even ids made from their
 * addresses, which say nothing about age), so with three snapshots S1 < S2 < S3 of one process, the objects
 * of S3 whose id lies above S1's largest and at most S2's largest were made between S1 and S2 and
 * survived until S3: after the clients of that time have all gone, those are what leaks.
 */
import { readFile } from "node:fs/promises";

/** The parts of a snapshot file used here. */
interface SnapshotFile {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** A snapshot in a form that can be walked. */
export interface HeapSnapshot {
  nodeCount: number;
  /** Per node: its kind (see kindOf), id, self size and its first edge. */
  kind: string[];
  id: Float64Array;
  selfSize: Float64Array;
  firstEdge: Uint32Array;
  /** Per edge: type name, label and the node it points to. */
  edgeType: string[];
  edgeLabel: string[];
  edgeTo: Uint32Array;
  /** For each node, the edges that point at it and keep it alive (built on first use). */
  retainers?: number[][];
  /** The largest id of a JavaScript heap object. */
  maxId: number;
}

/** How many objects of one kind, and their total self size (bytes). */
export interface KindTotal {
  count: number;
  bytes: number;
}

/**
 * The kind an object is counted under: its constructor's name for objects; the type for strings,
 * numbers and code (whose names are their contents); type and name for the rest (closures by
 * function name, arrays by what they hold, such as "(object properties)").
 */
function kindOf(type: string, name: string): string {
  if (type === "object") return name;
  if (type === "string" || type === "concatenated string" || type === "sliced string") return "(string)";
  if (type === "number" || type === "heap number" || type === "code" || type === "bigint") return `(${type})`;
  if (type === "closure") return `(closure) ${name}`;
  return `(${type}) ${name.length > 60 ? `${name.slice(0, 60)}…` : name}`;
}

/** JavaScript heap objects have odd ids, given in the order snapshots first saw them. */
const isHeapObjectId = (id: number) => id % 2 === 1;

/** Parses a snapshot file. */
export async function readHeapSnapshot(path: string): Promise<HeapSnapshot> {
  const file = JSON.parse(await readFile(path, "utf8")) as SnapshotFile;
  const { meta } = file.snapshot;
  const nodeFields = meta.node_fields.length;
  const edgeFields = meta.edge_fields.length;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const at = (fields: string[], name: string) => {
    const index = fields.indexOf(name);
    if (index < 0) throw new Error(`heap snapshot without the ${name} field`);
    return index;
  };
  const fType = at(meta.node_fields, "type");
  const fName = at(meta.node_fields, "name");
  const fId = at(meta.node_fields, "id");
  const fSize = at(meta.node_fields, "self_size");
  const fEdges = at(meta.node_fields, "edge_count");
  const eType = at(meta.edge_fields, "type");
  const eName = at(meta.edge_fields, "name_or_index");
  const eTo = at(meta.edge_fields, "to_node");

  const nodeCount = file.nodes.length / nodeFields;
  const edgeCount = file.edges.length / edgeFields;
  const kind = new Array<string>(nodeCount);
  const id = new Float64Array(nodeCount);
  const selfSize = new Float64Array(nodeCount);
  const firstEdge = new Uint32Array(nodeCount + 1);
  let maxId = 0;
  let edge = 0;
  for (let n = 0; n < nodeCount; n++) {
    const base = n * nodeFields;
    const type = nodeTypes[file.nodes[base + fType]!] ?? "?";
    kind[n] = kindOf(type, file.strings[file.nodes[base + fName]!] ?? "");
    id[n] = file.nodes[base + fId]!;
    selfSize[n] = file.nodes[base + fSize]!;
    firstEdge[n] = edge;
    edge += file.nodes[base + fEdges]!;
    if (isHeapObjectId(id[n]!) && id[n]! > maxId) maxId = id[n]!;
  }
  firstEdge[nodeCount] = edge;
  const edgeType = new Array<string>(edgeCount);
  const edgeLabel = new Array<string>(edgeCount);
  const edgeTo = new Uint32Array(edgeCount);
  for (let e = 0; e < edgeCount; e++) {
    const base = e * edgeFields;
    const type = edgeTypes[file.edges[base + eType]!] ?? "?";
    const label = file.edges[base + eName]!;
    edgeType[e] = type;
    // Elements and hidden edges are labelled by an index, the others by a string.
    edgeLabel[e] = type === "element" || type === "hidden" ? `[${label}]` : (file.strings[label] ?? "?");
    edgeTo[e] = file.edges[base + eTo]! / nodeFields;
  }
  return { nodeCount, kind, id, selfSize, firstEdge, edgeType, edgeLabel, edgeTo, maxId };
}

/** Objects per kind, optionally only those whose id lies in (`afterId`, `upToId`]. */
export function totalsByKind(
  snapshot: HeapSnapshot,
  range?: { afterId: number; upToId: number },
): Map<string, KindTotal> {
  const totals = new Map<string, KindTotal>();
  for (let n = 0; n < snapshot.nodeCount; n++) {
    const id = snapshot.id[n]!;
    if (range && (!isHeapObjectId(id) || id <= range.afterId || id > range.upToId)) continue;
    const key = snapshot.kind[n]!;
    const total = totals.get(key) ?? { count: 0, bytes: 0 };
    total.count++;
    total.bytes += snapshot.selfSize[n]!;
    totals.set(key, total);
  }
  return totals;
}

/** The kinds whose count grew most from `before` to `after` (difference per kind). */
export function growth(
  before: Map<string, KindTotal>,
  after: Map<string, KindTotal>,
): { kind: string; count: number; bytes: number }[] {
  const kinds = new Set([...before.keys(), ...after.keys()]);
  return [...kinds]
    .map((kind) => ({
      kind,
      count: (after.get(kind)?.count ?? 0) - (before.get(kind)?.count ?? 0),
      bytes: (after.get(kind)?.bytes ?? 0) - (before.get(kind)?.bytes ?? 0),
    }))
    .sort((a, b) => b.bytes - a.bytes);
}

function retainersOf(snapshot: HeapSnapshot): number[][] {
  if (snapshot.retainers) return snapshot.retainers;
  const retainers: number[][] = Array.from({ length: snapshot.nodeCount }, () => []);
  for (let n = 0; n < snapshot.nodeCount; n++) {
    for (let e = snapshot.firstEdge[n]!; e < snapshot.firstEdge[n + 1]!; e++) {
      // Weak edges do not keep anything alive; shortcuts duplicate a strong path.
      if (snapshot.edgeType[e] === "weak" || snapshot.edgeType[e] === "shortcut") continue;
      retainers[snapshot.edgeTo[e]!]!.push(e);
    }
  }
  // Stored as edge indexes; the edge's owner is found by its position in firstEdge.
  snapshot.retainers = retainers;
  return retainers;
}

function ownerOfEdge(snapshot: HeapSnapshot, edge: number): number {
  let low = 0;
  let high = snapshot.nodeCount - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (snapshot.firstEdge[mid]! <= edge) low = mid;
    else high = mid - 1;
  }
  return low;
}

/**
 * One chain of retainers from an object of `kind` (in the id range) towards the roots, as text:
 * `Kind <-label- Kind <-label- …`. Each step takes the retainer with the smallest id that is not
 * already on the chain (older objects are nearer the roots), up to `depth` steps.
 */
export function retainerChain(
  snapshot: HeapSnapshot,
  kind: string,
  range: { afterId: number; upToId: number },
  depth = 12,
): string | undefined {
  let start = -1;
  for (let n = 0; n < snapshot.nodeCount; n++) {
    const id = snapshot.id[n]!;
    if (snapshot.kind[n] === kind && isHeapObjectId(id) && id > range.afterId && id <= range.upToId) {
      start = n;
      break;
    }
  }
  if (start < 0) return undefined;
  const retainers = retainersOf(snapshot);
  const seen = new Set([start]);
  const parts = [snapshot.kind[start]!];
  let node = start;
  for (let step = 0; step < depth; step++) {
    let best: { edge: number; owner: number } | undefined;
    for (const edge of retainers[node]!) {
      const owner = ownerOfEdge(snapshot, edge);
      if (seen.has(owner)) continue;
      if (!best || snapshot.id[owner]! < snapshot.id[best.owner]!) best = { edge, owner };
    }
    if (!best) break;
    parts.push(`<-${snapshot.edgeLabel[best.edge]}- ${snapshot.kind[best.owner]}`);
    seen.add(best.owner);
    node = best.owner;
  }
  return parts.join(" ");
}
