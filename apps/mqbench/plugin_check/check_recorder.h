// How the individual checks record their outcome: each runs as a lambda that returns
// a detail string on success and calls expect()/skip() otherwise; any exception the
// plugin throws becomes that check's failure with its message.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "plugin_check.h"

namespace mqb::check {

struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct CheckSkipped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void expect(bool ok, const std::string& why) {
  if (!ok) throw CheckFailed(why);
}
[[noreturn]] inline void skip(const std::string& why) { throw CheckSkipped(why); }

class Recorder {
 public:
  explicit Recorder(std::vector<CheckResult>& out) : out_(out) {}
  // Runs `fn` (returning the detail of a pass) and records the result under `name`.
  template <class F>
  bool run(const std::string& name, F&& fn) {
    CheckResult r{name, Status::Pass, ""};
    try {
      r.detail = fn();
    } catch (const CheckSkipped& e) {
      r.status = Status::Skip;
      r.detail = e.what();
    } catch (const CheckFailed& e) {
      r.status = Status::Fail;
      r.detail = e.what();
    } catch (const std::exception& e) {
      r.status = Status::Fail;
      r.detail = std::string("unexpected exception: ") + first_line(e.what());
    }
    out_.push_back(r);
    return r.status != Status::Fail;
  }

 private:
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
  std::vector<CheckResult>& out_;
};

}  // namespace mqb::check
