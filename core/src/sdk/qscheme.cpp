// QScheme: integer ranges derived as MQBench's QuantizeScheme does, and validation.
#include "mqb/qscheme.h"

#include <sstream>

namespace mqb {

int64_t QScheme::quant_min() const {
  if (quant_min_override) return *quant_min_override;
  if (!symmetric) return 0;
  const int64_t half = int64_t{1} << (bit - 1);
  return symmetric_range ? -(half - 1) : -half;
}

int64_t QScheme::quant_max() const {
  if (quant_max_override) return *quant_max_override;
  return symmetric ? (int64_t{1} << (bit - 1)) - 1 : (int64_t{1} << bit) - 1;
}

void QScheme::validate() const {
  auto fail = [](const std::string& m) { throw ConfigError("invalid qscheme: " + m); };
  if (bit < kMinBit || bit > kMaxBit)
    fail("bit = " + std::to_string(bit) + " is out of range; accepted: " + std::to_string(kMinBit) +
         ".." + std::to_string(kMaxBit));
  if (symmetric_range && !symmetric)
    fail("symmetric_range = true needs symmetry = true (a restricted symmetric range has no "
         "meaning for an asymmetric scheme)");
  if (per_channel && ch_axis < 0)
    fail("per_channel = true needs ch_axis >= 0 (got " + std::to_string(ch_axis) + ")");
  if (!per_channel && ch_axis != -1)
    fail("ch_axis = " + std::to_string(ch_axis) + " given with per_channel = false; set "
         "per_channel = true or drop ch_axis");
  if (quant_min_override.has_value() != quant_max_override.has_value())
    fail("quant_min and quant_max must be given together");
  const int64_t lo = quant_min(), hi = quant_max();
  if (!(lo <= 0 && 0 <= hi && lo < hi))
    fail("range [" + std::to_string(lo) + ", " + std::to_string(hi) +
         "] must contain 0 and have quant_min < quant_max");
  if (hi - lo + 1 > (int64_t{1} << kMaxBit))
    fail("range [" + std::to_string(lo) + ", " + std::to_string(hi) + "] has more than 2^" +
         std::to_string(kMaxBit) + " levels");
}

std::string QScheme::name() const {
  std::ostringstream s;
  s << "b" << bit << (symmetric ? (symmetric_range ? "_sym_range" : "_sym") : "_asym")
    << (per_channel ? "_pc" : "_pt") << (pot_scale ? "_pot" : "");
  return s.str();
}

std::string QScheme::describe() const {
  std::ostringstream s;
  s << bit << "-bit " << (symmetric ? "symmetric" : "asymmetric");
  if (per_channel) s << " per-channel(axis " << ch_axis << ")";
  else s << " per-tensor";
  s << " [" << quant_min() << ", " << quant_max() << "]";
  if (pot_scale) s << " pot-scale";
  return s.str();
}

bool QScheme::operator==(const QScheme& o) const {
  return bit == o.bit && symmetric == o.symmetric && per_channel == o.per_channel &&
         pot_scale == o.pot_scale && symmetric_range == o.symmetric_range &&
         ch_axis == o.ch_axis && quant_min() == o.quant_min() && quant_max() == o.quant_max();
}

}  // namespace mqb
