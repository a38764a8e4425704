// Progress lines for long work: count, rate and ETA on stderr. On a terminal the line
// is redrawn in place; otherwise (logs, CI) a line is printed about every 10 %.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "mqb/error.h"

namespace mqb {

class MQB_API Progress {
 public:
  // `quiet` prints nothing; `unit` names what is counted ("batch", "image").
  // `line_per_step`: every advance prints a line of its own, never redrawn (for outer
  // progress over steps that print progress lines themselves, e.g. the bench rows).
  Progress(std::string label, int64_t total, std::string unit, bool quiet, bool line_per_step = false);
  ~Progress();
  void advance(int64_t n = 1, const std::string& note = "");
  void finish(const std::string& note = "");

 private:
  void print(bool final_line, const std::string& note);
  std::string label_, unit_;
  int64_t total_, done_ = 0, last_decile_ = -1;
  bool quiet_, tty_, line_per_step_, finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace mqb
