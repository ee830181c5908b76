/**
 * CPU time from /proc (Linux): of a process, of every PostgreSQL server process, and of the whole
 * machine — to say where the cores went during a load.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime of one process, in ms; 0 when it is gone. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** Sum of utime + stime of every process named `postgres`, in ms (backends come and go: a lower bound). */
function postgresCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres')
        total += processCpuMs(Number(entry));
    } catch {}
  }
  return total;
}

/** Busy (non-idle) CPU time of the machine, in ms. */
function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return (v.reduce((a, b) => a + b, 0) - idle) * TICK_MS;
}

export type CpuShare = { server: number; postgres: number; loadGenerator: number; machine: number };

/**
 * Starts measuring; the returned function gives, for the time since, each party's CPU as a share of
 * ONE core (1 = one core busy the whole time) and the machine's busy share of all its cores.
 */
export function measureCpu(serverPid: number): (until?: number) => CpuShare {
  const start = {
    at: performance.now(),
    server: processCpuMs(serverPid),
    postgres: postgresCpuMs(),
    self: processCpuMs(process.pid),
    machine: machineBusyMs(),
  };
  return (until = performance.now()) => {
    // Shares of the time up to `until` (the load's last response); CPU read now, so the idle tail
    // after it adds next to nothing.
    const wall = until - start.at;
    return {
      server: (processCpuMs(serverPid) - start.server) / wall,
      postgres: (postgresCpuMs() - start.postgres) / wall,
      loadGenerator: (processCpuMs(process.pid) - start.self) / wall,
      machine: (machineBusyMs() - start.machine) / wall / availableParallelism(),
    };
  };
}
