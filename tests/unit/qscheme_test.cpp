// QScheme: integer ranges (the MQBench table), names, and refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "mqb/qscheme.h"
#include "support/conformance.h"

using mqb::QScheme;

namespace {
QScheme make(int bit, bool sym, bool range = false, bool pc = false) {
  QScheme s;
  s.bit = bit;
  s.symmetric = sym;
  s.symmetric_range = range;
  s.per_channel = pc;
  s.ch_axis = pc ? 0 : -1;
  return s;
}
}  // namespace

TEST(QScheme, HandDerivedRangesFromTheSpec) {
  // Spec §1.2 / conformance README: b2 asym [0,3], sym [-2,1], sym_range [-1,1]; b4 ...; b16 ...
  struct Row { int bit; int64_t asym_max, sym_min, sym_max, range_min; };
  const Row rows[] = {{2, 3, -2, 1, -1}, {4, 15, -8, 7, -7}, {8, 255, -128, 127, -127},
                      {16, 65535, -32768, 32767, -32767}};
  for (const auto& r : rows) {
    EXPECT_EQ(make(r.bit, false).quant_min(), 0);
    EXPECT_EQ(make(r.bit, false).quant_max(), r.asym_max);
    EXPECT_EQ(make(r.bit, true).quant_min(), r.sym_min);
    EXPECT_EQ(make(r.bit, true).quant_max(), r.sym_max);
    EXPECT_EQ(make(r.bit, true, true).quant_min(), r.range_min);
    EXPECT_EQ(make(r.bit, true, true).quant_max(), r.sym_max);
  }
}

TEST(QScheme, EveryBitWidthMatchesPowersOfTwo) {
  for (int b = QScheme::kMinBit; b <= QScheme::kMaxBit; ++b) {
    const double half = std::pow(2.0, b - 1);
    EXPECT_EQ(make(b, false).quant_max(), static_cast<int64_t>(2 * half - 1)) << b;
    EXPECT_EQ(make(b, true).quant_min(), static_cast<int64_t>(-half)) << b;
    EXPECT_EQ(make(b, true, true).quant_min(), static_cast<int64_t>(-half + 1)) << b;
    EXPECT_NO_THROW(make(b, true, true, true).validate()) << b;
    EXPECT_NO_THROW(make(b, false, false, true).validate()) << b;
  }
}

TEST(QScheme, MatchesEveryRangeMQBenchRecordedInTheConformanceData) {
  std::set<std::string> seen;
  for (const auto* c : mqb::test::conformance_cases("observer")) {
    const auto& q = c->at("qscheme");
    const QScheme s = mqb::test::qscheme_from_json(q);
    EXPECT_EQ(s.quant_min(), q.at("quant_min").get<int64_t>()) << c->at("id");
    EXPECT_EQ(s.quant_max(), q.at("quant_max").get<int64_t>()) << c->at("id");
    EXPECT_EQ(s.name(), c->at("qscheme_name").get<std::string>());
    seen.insert(s.name());
  }
  EXPECT_GE(seen.size(), 40u);  // 4 bits x 3 variants x pt/pc x pot
}

TEST(QScheme, RefusesOutOfRangeAndContradictorySchemes) {
  auto refused = [](QScheme s, const std::string& needle) {
    try {
      s.validate();
    } catch (const mqb::ConfigError& e) {
      return std::string(e.what()).find(needle) != std::string::npos;
    }
    return false;
  };
  EXPECT_TRUE(refused(make(1, true), "bit = 1 is out of range; accepted: 2..16"));
  EXPECT_TRUE(refused(make(17, false), "bit = 17"));
  EXPECT_TRUE(refused(make(8, false, true), "symmetric_range = true needs symmetry = true"));
  QScheme pc_no_axis = make(8, true);
  pc_no_axis.per_channel = true;
  EXPECT_TRUE(refused(pc_no_axis, "per_channel = true needs ch_axis >= 0"));
  QScheme axis_no_pc = make(8, true);
  axis_no_pc.ch_axis = 1;
  EXPECT_TRUE(refused(axis_no_pc, "ch_axis = 1 given with per_channel = false"));
  QScheme bad_range = make(8, true);
  bad_range.quant_min_override = 1;
  bad_range.quant_max_override = 255;
  EXPECT_TRUE(refused(bad_range, "must contain 0"));
  QScheme half_override = make(8, true);
  half_override.quant_min_override = 0;
  EXPECT_TRUE(refused(half_override, "quant_min and quant_max must be given together"));
}

TEST(QScheme, ExplicitRangeOverridesTheDerivedOne) {
  QScheme s = make(8, true);  // OpenVINO's unsigned activations keep a symmetric scheme
  s.quant_min_override = 0;
  s.quant_max_override = 255;
  EXPECT_NO_THROW(s.validate());
  EXPECT_EQ(s.quant_min(), 0);
  EXPECT_EQ(s.quant_max(), 255);
  EXPECT_EQ(make(4, true, true, true).describe(), "4-bit symmetric per-channel(axis 0) [-7, 7]");
}
