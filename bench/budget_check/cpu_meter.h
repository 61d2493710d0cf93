// CpuMeter: where the CPU of a load slice went, for bench/budget_check.
//
// On a 2-core machine the load client and the servers it calls share the cores, so a ratio of
// call rates is in effect a ratio of CPU per call on both sides. Reporting only the rates hides
// which side a difference is on; this meter reads, around every slice, the CPU time of the load
// client itself (getrusage), of each server process (/proc/PID/stat, all threads) and of the
// whole machine (/proc/stat: busy and idle), so that the benchmark can print CPU microseconds
// per call by process, and how idle the machine was, next to each kind's rate.
//
// Resolution is the kernel's clock tick (10 ms at USER_HZ 100) for /proc figures; summed over
// many 0.5 s slices the rounding errors average out to a few percent.
#ifndef STEPLEDGER_BENCH_BUDGET_CHECK_CPU_METER_H_
#define STEPLEDGER_BENCH_BUDGET_CHECK_CPU_METER_H_

#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

namespace stepledger::bench {

// CPU seconds consumed so far; differences of two snapshots are what a slice used.
struct CpuSnapshot {
  double client = 0;                // This process (the load client), user + system.
  std::array<double, 2> servers{};  // Each watched server process, user + system.
  double machine_busy = 0;          // Every CPU's non-idle time.
  double machine_idle = 0;          // Every CPU's idle (and iowait) time.

  CpuSnapshot operator-(const CpuSnapshot& earlier) const {
    CpuSnapshot d;
    d.client = client - earlier.client;
    for (size_t i = 0; i < servers.size(); ++i) d.servers[i] = servers[i] - earlier.servers[i];
    d.machine_busy = machine_busy - earlier.machine_busy;
    d.machine_idle = machine_idle - earlier.machine_idle;
    return d;
  }
  CpuSnapshot& operator+=(const CpuSnapshot& more) {
    client += more.client;
    for (size_t i = 0; i < servers.size(); ++i) servers[i] += more.servers[i];
    machine_busy += more.machine_busy;
    machine_idle += more.machine_idle;
    return *this;
  }
};

class CpuMeter {
 public:
  // pids: the two server processes to watch (0: not watched, reads as 0 s).
  explicit CpuMeter(std::array<pid_t, 2> pids) : pids_(pids), tick_(sysconf(_SC_CLK_TCK)) {}

  CpuSnapshot Read() const {
    CpuSnapshot s;
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    s.client = Seconds(self.ru_utime) + Seconds(self.ru_stime);
    for (size_t i = 0; i < pids_.size(); ++i) s.servers[i] = ProcessSeconds(pids_[i]);
    ReadMachine(s);
    return s;
  }

 private:
  static double Seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

  // utime + stime (fields 14 and 15) of /proc/PID/stat. The command name (field 2) is in
  // parentheses and may hold spaces, so fields are counted after the last ')'.
  double ProcessSeconds(pid_t pid) const {
    if (pid <= 0) return 0;
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) return 0;
    char buf[1024];
    const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const std::string line(buf);
    const size_t close = line.rfind(')');
    if (close == std::string::npos) return 0;
    unsigned long long utime = 0, stime = 0;
    // After ')': state(3) ppid(4) ... utime(14) stime(15): skip 11 fields after the state.
    if (std::sscanf(line.c_str() + close + 1,
                    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) != 2) {
      return 0;
    }
    return static_cast<double>(utime + stime) / tick_;
  }

  // The aggregate "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal.
  void ReadMachine(CpuSnapshot& s) const {
    std::FILE* f = std::fopen("/proc/stat", "r");
    if (f == nullptr) return;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                       steal = 0;
    const int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
                                &system, &idle, &iowait, &irq, &softirq, &steal);
    std::fclose(f);
    if (got < 4) return;
    s.machine_busy = static_cast<double>(user + nice + system + irq + softirq + steal) / tick_;
    s.machine_idle = static_cast<double>(idle + iowait) / tick_;
  }

  std::array<pid_t, 2> pids_;
  long tick_;
};

}  // namespace stepledger::bench

#endif  // STEPLEDGER_BENCH_BUDGET_CHECK_CPU_METER_H_
