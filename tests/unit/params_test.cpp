// Params: typed reads, locations in messages, unknown-key rejection.
#include <gtest/gtest.h>

#include "mqb/params.h"

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const mqb::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST(Params, TypedReadsWithFallbacks) {
  mqb::Params p("extra_qconfig.a_observer_extra_args");
  p.set("ema_ratio", 0.8, {"c.toml", 7, 13});
  p.set("bins", int64_t{4096});
  p.set("compat", true);
  EXPECT_DOUBLE_EQ(p.real("ema_ratio", 0.9), 0.8);
  EXPECT_DOUBLE_EQ(p.real("bins", 0), 4096.0);  // integers are accepted where a number is
  EXPECT_EQ(p.integer("bins", 2048), 4096);
  EXPECT_EQ(p.integer("missing", 5), 5);
  EXPECT_TRUE(p.boolean("compat", false));
  EXPECT_NO_THROW(p.reject_unknown("X"));
}

TEST(Params, WrongTypeNamesKeyLocationAndAcceptedType) {
  mqb::Params p("extra_qconfig.a_observer_extra_args");
  p.set("ema_ratio", std::string("fast"), {"c.toml", 7, 13});
  EXPECT_EQ(error_of([&] { p.real("ema_ratio", 0.9); }),
            "c.toml:7:13: extra_qconfig.a_observer_extra_args.ema_ratio = \"fast\": expected a number");
}

TEST(Params, UnknownKeysAreRefusedWithTheAcceptedList) {
  mqb::Params p("extra_qconfig.w_observer_extra_args");
  p.set("ema_ratio", 0.9, {"c.toml", 3, 1});
  p.set("emma_ratio", 0.9, {"c.toml", 4, 1});
  p.real("ema_ratio", 0.9);
  p.integer("bins", 2048);
  EXPECT_EQ(error_of([&] { p.reject_unknown("EMAQuantileObserver"); }),
            "c.toml:4:1: extra_qconfig.w_observer_extra_args.emma_ratio: unknown parameter for "
            "EMAQuantileObserver; accepted: bins, ema_ratio");
}

TEST(Params, RequireReportsTheValue) {
  mqb::Params p("x");
  p.set("p", 0.0, {"f.toml", 2, 5});
  EXPECT_EQ(error_of([&] { p.require(p.real("p", 2.0) > 0, "p", "a number > 0"); }),
            "f.toml:2:5: x.p = 0.0: accepted: a number > 0");
}
