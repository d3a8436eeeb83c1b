"""benchlib - what the benchmarks say about the machine and its load, and
the memory of processes, shared by bench/accept and bench/deliver.

  machine_lines(paths)   the machine: CPUs, memory, kernel, and for each
                         folder the filesystem it is on (type, device,
                         mount options: discard or barrier settings change
                         what an fsync costs)
  LoadWatch              the load around one run: the 1-minute load
                         average before it, and how much CPU the rest of
                         the machine (not the benchmark's own processes)
                         and the hypervisor (steal) took during it
  pss_kb(pid)            a process's proportional set size
                         (/proc/PID/smaps_rollup)
  PssSampler             PSS of chosen processes of an instance, sampled
                         during a run

Only /proc is read; nothing here changes the machine.
"""

import os
import resource
import statistics
import threading
import time

from procfs import descendants  # tests/integration, on the path

TICK = os.sysconf("SC_CLK_TCK")


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def mount_of(path):
    """(mount point, filesystem type, source, options) of the mount that
    holds path, from /proc/self/mountinfo (the longest matching mount
    point)."""
    path = os.path.realpath(path)
    best = None
    for line in _read("/proc/self/mountinfo").splitlines():
        left, _, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if len(fields) < 6 or len(rest) < 3:
            continue
        point = fields[4].replace("\\040", " ")
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best[0])):
            # Mount options (fields[5]) and the filesystem's own (rest[2]).
            best = (point, rest[0], rest[1], fields[5] + "," + rest[2])
    return best


def machine_lines(paths):
    """Lines describing the machine and where paths live."""
    model = ""
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1])
    u = os.uname()
    lines = ["machine: %d CPUs (%s), %.1f GB of memory, kernel %s %s, "
             "load average %s" % (os.cpu_count(), model or "?", mem / 2**20,
                                  u.release, u.machine,
                                  " ".join("%.2f" % x
                                           for x in os.getloadavg()))]
    for label, path in paths:
        m = mount_of(path)
        if m is None:
            lines.append("%s: %s (mount unknown)" % (label, path))
            continue
        opts = ",".join(o for o in dict.fromkeys(m[3].split(","))
                        if o not in ("rw",))
        lines.append("%s: %s on %s, %s mounted at %s (%s)%s" % (
            label, path, m[1], m[2], m[0], opts,
            "; fsync costs nothing there" if m[1] in ("tmpfs", "ramfs")
            else ""))
    return lines


def _cpu_jiffies():
    """(busy, steal, total) jiffies of all CPUs from /proc/stat."""
    f = _read("/proc/stat").splitlines()[0].split()[1:]
    v = [int(x) for x in f[:8]] + [0] * (8 - len(f[:8]))
    user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + steal + idle + iowait


def _own_cpu():
    """CPU seconds of this process and the children it reaped."""
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def tree_cpu(root):
    """CPU seconds of root, the children it reaped, and every live
    descendant with the children each reaped."""
    total = 0.0
    if root is None:
        return total
    for pid in [root] + descendants(root):
        stat = _read("/proc/%d/stat" % pid)
        if not stat:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # utime stime cutime cstime: fields 14-17 (1-based) of stat.
        total += sum(int(x) for x in fields[11:15]) / TICK
    return total


# The 1-minute load average decays with a time constant of a minute: for
# this long after a run it still shows that run, not the rest of the
# machine.
LOAD_MEMORY = 180.0
_last_run_end = None


class LoadWatch:
    """The load around one run.  The load average during a run is mostly
    the run itself (the load generator, tens of server processes), so it
    says nothing about disturbance; what does is the load average just
    before the run (when no run of this bench ended in the last
    LOAD_MEMORY seconds: it would still count that one) and, during the
    run, the CPU time the machine spent outside the benchmark's processes
    (the instance's process tree, this script and its children such as
    smtp-source) and the time the hypervisor gave to other guests
    (steal).  busy() says whether either was high: a judged load average
    above half the CPUs before the run, or other processes and steal
    together worth more than a quarter of the CPUs during it."""

    def __init__(self, root_pid):
        self.root = root_pid
        self.cpus = os.cpu_count() or 1
        self.load_before = os.getloadavg()[0]
        self.judged = (_last_run_end is None or
                       time.monotonic() - _last_run_end > LOAD_MEMORY)
        self.jiffies0 = _cpu_jiffies()
        self.own0 = _own_cpu() + tree_cpu(root_pid)
        self.result = None

    def stop(self):
        """Ends the watch (before the instance stops: its processes must
        still be there to be counted)."""
        global _last_run_end
        _last_run_end = time.monotonic()
        busy1, steal1, total1 = _cpu_jiffies()
        busy0, steal0, total0 = self.jiffies0
        own = _own_cpu() + tree_cpu(self.root) - self.own0
        span = max(total1 - total0, 1) / TICK  # CPU-seconds available
        other = max((busy1 - busy0) / TICK - own, 0.0)
        steal = (steal1 - steal0) / TICK
        self.result = {
            "load_before": self.load_before,
            "load_after": os.getloadavg()[0],
            "own": own / span, "other": other / span, "steal": steal / span,
        }
        return self

    def busy(self):
        r = self.result
        return ((self.judged and r["load_before"] > self.cpus / 2) or
                r["other"] + r["steal"] > 0.25)

    def text(self):
        r = self.result
        return ("load average %.2f before%s, %.2f after; CPU: benchmark "
                "%.0f%%, other processes %.0f%%, steal %.0f%%" %
                (r["load_before"],
                 "" if self.judged else " (still the previous run's)",
                 r["load_after"], 100 * r["own"], 100 * r["other"],
                 100 * r["steal"]))

    def warning(self):
        """A warning line when the machine was busy, else None."""
        if not self.busy():
            return None
        return ("warning: the machine was busy during this run (%s; "
                "limits: load average %.1f, a quarter of the CPUs): its "
                "figures are not comparable" % (self.text(), self.cpus / 2))


# -- memory -------------------------------------------------------------------

def pss_kb(pid):
    """The proportional set size of pid in kB (shared pages divided among
    the processes that map them), or None when it is gone."""
    for line in _read("/proc/%d/smaps_rollup" % pid).splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return None


class PssSampler(threading.Thread):
    """Every interval seconds, the PSS of each descendant of root whose
    command name is in names: samples is a list of {name: [kB, ...]}, one
    per sample that found at least one process named first (the one that
    holds the connections).  smaps_rollup walks a process's page tables,
    so this samples less often than the VmHWM sampler."""

    def __init__(self, root, names, interval=0.5):
        super().__init__(daemon=True)
        self.root, self.names, self.interval = root, tuple(names), interval
        self.samples = []
        self.done = threading.Event()

    def sample(self):
        found = {}
        for pid in descendants(self.root):
            name = _read("/proc/%d/comm" % pid).strip()
            if name not in self.names:
                continue
            kb = pss_kb(pid)
            if kb is not None:
                found.setdefault(name, []).append(kb)
        if found.get(self.names[0]):
            self.samples.append(found)

    def run(self):
        while not self.done.wait(self.interval):
            self.sample()

    def stop(self):
        self.done.set()
        self.join()
        return self.samples


def pss_per_connection(samples, connections, own, shared=()):
    """PSS in kB that one connection costs, the median over samples: the
    mean PSS of the processes named own (one per connection) plus the
    PSS of the shared processes divided by connections.  Returns
    (total, own part, shared part), or None without samples."""
    if not samples:
        return None
    rows = []
    for s in samples:
        mine = statistics.mean(s[own])
        common = sum(sum(s.get(n, [])) for n in shared) / max(connections, 1)
        rows.append((mine + common, mine, common))
    rows.sort()
    return rows[len(rows) // 2]
