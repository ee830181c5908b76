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

/** CPU time spent since a start, in ms: by each named party (its processes summed), PostgreSQL, this process and the machine. */
export type CpuSpent = {
  wallMs: number;
  parties: Record<string, number>;
  postgres: number;
  /** This process: the bench's load generator and watchers. */
  bench: number;
  /** Busy time of all cores together. */
  machine: number;
};

/**
 * Starts counting the CPU time of named groups of processes (a server, worker processes), of every
 * PostgreSQL process, of this process and of the machine; the returned function gives what each
 * spent since, with the wall time up to `until`.
 */
export function measureCpuSpent(parties: Record<string, readonly number[]>): (until?: number) => CpuSpent {
  const partyMs = () =>
    Object.fromEntries(
      Object.entries(parties).map(([name, pids]) => [
        name,
        pids.reduce((sum, pid) => sum + processCpuMs(pid), 0),
      ]),
    );
  const start = {
    at: performance.now(),
    parties: partyMs(),
    postgres: postgresCpuMs(),
    bench: processCpuMs(process.pid),
    machine: machineBusyMs(),
  };
  return (until = performance.now()) => {
    const now = partyMs();
    return {
      wallMs: until - start.at,
      parties: Object.fromEntries(
        Object.keys(parties).map((name) => [name, (now[name] ?? 0) - (start.parties[name] ?? 0)]),
      ),
      postgres: postgresCpuMs() - start.postgres,
      bench: processCpuMs(process.pid) - start.bench,
      machine: machineBusyMs() - start.machine,
    };
  };
}

export type CpuShare = { server: number; postgres: number; loadGenerator: number; machine: number };

/**
 * Starts measuring; the returned function gives, for the time since, each party's CPU as a share of
 * ONE core (1 = one core busy the whole time) and the machine's busy share of all its cores.
 */
export function measureCpu(serverPid: number): (until?: number) => CpuShare {
  const spent = measureCpuSpent({ server: [serverPid] });
  return (until = performance.now()) => {
    // Shares of the time up to `until` (the load's last response); CPU read now, so the idle tail
    // after it adds next to nothing.
    const s = spent(until);
    return {
      server: (s.parties.server ?? 0) / s.wallMs,
      postgres: s.postgres / s.wallMs,
      loadGenerator: s.bench / s.wallMs,
      machine: s.machine / s.wallMs / availableParallelism(),
    };
  };
}
