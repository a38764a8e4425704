// Progress lines (see mqb/host/progress.h).
#include "mqb/host/progress.h"

#include <unistd.h>

#include <cstdio>

namespace mqb {

Progress::Progress(std::string label, int64_t total, std::string unit, bool quiet, bool line_per_step)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), quiet_(quiet),
      tty_(isatty(STDERR_FILENO) != 0 && !line_per_step), line_per_step_(line_per_step),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  if (!finished_ && done_ > 0 && tty_ && !quiet_) std::fputc('\n', stderr);
}

void Progress::advance(int64_t n, const std::string& note) {
  done_ += n;
  const int64_t decile = total_ > 0 ? done_ * 10 / total_ : 0;
  // The last step is left to finish(), which prints the closing line.
  if (done_ < total_ && (tty_ || line_per_step_ || decile != last_decile_)) print(false, note);
  last_decile_ = decile;
}

void Progress::finish(const std::string& note) {
  print(true, note);
  finished_ = true;
}

void Progress::print(bool final_line, const std::string& note) {
  if (quiet_) return;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? done_ / secs : 0;
  std::string tail;
  char buf[64];
  if (!final_line && rate > 0 && total_ > done_) {
    std::snprintf(buf, sizeof buf, "  ETA %.0fs", (total_ - done_) / rate);
    tail += buf;
  }
  if (final_line) {
    std::snprintf(buf, sizeof buf, "  done in %.1fs", secs);
    tail += buf;
  }
  if (!note.empty()) tail += "  " + note;
  std::fprintf(stderr, "%s%s %lld/%lld %s  %.1f %s/s%s", tty_ ? "\r\033[K" : "", label_.c_str(),
               static_cast<long long>(done_), static_cast<long long>(total_), unit_.c_str(), rate, unit_.c_str(),
               tail.c_str());
  if (!tty_ || final_line) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace mqb
