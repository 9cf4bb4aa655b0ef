/**
 * The memory of a server that forks, as NSD does (a main process, xfrd, and its server children):
 * every process of its tree, found through /proc/PID/task/TID/children, with VmRSS and VmHWM of
 * each, and the tree's proportional set size (Pss in /proc/PID/smaps_rollup). Summed RSS counts a
 * page the processes share (NSD's zone, copied on write at the fork) once per process; Pss splits
 * it between them, so its sum counts it once.
 * @module
 */
import { type Memory, memoryOf } from "./_harness.ts";

/** One process of a tree. */
export interface ProcessMemory {
  readonly pid: number;
  /** Its command name (/proc/PID/comm), which NSD sets to its role: `nsd: xfrd`, `nsd: main`, ... */
  readonly role: string;
  readonly memory: Memory;
}

/** A process tree's memory, in bytes. */
export interface TreeMemory {
  /** VmRSS and VmHWM summed over every process. */
  readonly sum: Memory;
  /** The process with the most VmRSS. */
  readonly largest: ProcessMemory;
  /** Pss summed over every process. */
  readonly pss: number;
  readonly processes: number;
}

/** `pid` and its descendants, parents before children. */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let at = 0; at < tree.length; at++) {
    // A thread other than the main one may have forked too: read the children of every thread.
    for (const task of Deno.readDirSync(`/proc/${tree[at]}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${tree[at]}/task/${task.name}/children`);
      tree.push(...text.split(" ").filter((word) => word !== "").map(Number));
    }
  }
  return tree;
}

function pssOf(pid: number): number {
  const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  const match = /^Pss:\s+(\d+) kB$/m.exec(rollup);
  if (!match) throw new Error(`No Pss in /proc/${pid}/smaps_rollup`);
  return Number(match[1]) * 1024;
}

/** Reads the memory of `pid` and all its descendants; throws if `pid` itself is gone. */
export function treeMemoryOf(pid: number): TreeMemory {
  const processes: ProcessMemory[] = [];
  let pss = 0;
  for (const member of processTree(pid)) {
    try {
      const memory = memoryOf(member);
      pss += pssOf(member);
      const role = Deno.readTextFileSync(`/proc/${member}/comm`).trim();
      processes.push({ pid: member, role, memory });
    } catch (error) {
      // A child that exited between the listing and the reading is no longer part of the tree.
      if (member === pid || !(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  const largest = processes.reduce((most, one) => one.memory.rss > most.memory.rss ? one : most);
  return {
    sum: {
      rss: processes.reduce((sum, one) => sum + one.memory.rss, 0),
      peak: processes.reduce((sum, one) => sum + one.memory.peak, 0),
    },
    largest,
    pss,
    processes: processes.length,
  };
}
