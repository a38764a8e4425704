// Edge cases (empty, constant, zeros, single element, NaN/Inf), state round trips,
// per-channel on every axis, all bit widths, and the documented differences from
// MQBench (default mode vs mqbench_compat = true), for every observer plugin.
#include <gtest/gtest.h>

#include <ATen/ops/amax.h>
#include <ATen/ops/amin.h>
#include <ATen/ops/full.h>
#include <ATen/ops/linspace.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/std.h>
#include <ATen/ops/mean.h>

#include <cmath>

#include "mqb/qparams_math.h"
#include "observer_test_util.h"
#include "support/tensor_compare.h"

namespace mqb::test {
namespace {

const std::vector<std::string>& all_observers() {
  static const std::vector<std::string> names = {
      "MinMaxObserver",  "EMAMinMaxObserver", "MinMaxFloorObserver", "EMAMinMaxFloorObserver",
      "PoTModeObserver", "EMAQuantileObserver", "ClipStdObserver",   "LSQObserver",
      "LSQPlusObserver", "MSEObserver",       "EMAMSEObserver",      "PercentileObserver",
      "EntropyObserver", "HistogramMSEObserver"};
  return names;
}

bool is_vitis(const std::string& n) {
  return n == "MinMaxFloorObserver" || n == "EMAMinMaxFloorObserver" || n == "PoTModeObserver";
}

std::shared_ptr<Observer> make(const std::string& name, const QScheme& s, const Params& p = Params()) {
  auto obs = make_observer(name, s, p);
  if (is_vitis(name)) obs->set_quant_type(QuantType::Tensor);
  return obs;
}

bool finite_positive_scale(const QParams& q) {
  at::Tensor s = q.scale.to(at::kDouble), z = q.zero_point.to(at::kDouble);
  for (int64_t i = 0; i < s.numel(); ++i)
    if (!std::isfinite(s.data_ptr<double>()[i]) || !(s.data_ptr<double>()[i] > 0)) return false;
  for (int64_t i = 0; i < z.numel(); ++i)
    if (!std::isfinite(z.data_ptr<double>()[i])) return false;
  return true;
}

void expect_same_state(const StateDict& a, const StateDict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& kv : a) {
    ASSERT_TRUE(b.count(kv.first)) << kv.first;
    EXPECT_TRUE(tensors_bitwise_equal(kv.second, b.at(kv.first))) << kv.first;
    EXPECT_EQ(kv.second.sizes(), b.at(kv.first).sizes()) << kv.first;
  }
}

class EveryObserver : public ::testing::TestWithParam<std::string> {
 protected:
  QScheme per_channel_scheme() const {
    return scheme_of(8, true, 1);
  }
};

TEST_P(EveryObserver, EmptyTensorsAreIgnoredAndNoDataGivesUnitScale) {
  auto obs = make(GetParam(), scheme_of(8, true));
  const StateDict before = obs->state();
  obs->observe(at::empty({0, 3}));
  expect_same_state(before, obs->state());
  const QParams q = obs->calculate_qparams();
  EXPECT_EQ(q.scale.item<float>(), 1.0f);
  EXPECT_EQ(q.zero_point.item<float>(), 0.0f);
}

TEST_P(EveryObserver, ConstantZerosAndSingleElementGiveFiniteScales) {
  for (bool symmetric : {true, false}) {
    if (is_vitis(GetParam()) && !symmetric) continue;  // refused with DataError, tested below
    for (const at::Tensor& x : {at::full({4, 3, 5}, 0.75f), at::full({4, 3, 5}, -0.5f), at::zeros({4, 3, 5}),
                                at::full({1}, 2.5f)}) {
      auto obs = make(GetParam(), scheme_of(8, symmetric));
      obs->observe(x);
      obs->observe(x);
      const QParams q = obs->calculate_qparams();
      EXPECT_TRUE(finite_positive_scale(q)) << "symmetric " << symmetric << " x[0] " << x.flatten()[0].item<float>()
                                            << " scale " << q.scale << " zp " << q.zero_point;
    }
  }
}

TEST_P(EveryObserver, NonFiniteInputIsADataErrorAndLeavesStateUntouched) {
  auto obs = make(GetParam(), per_channel_scheme());
  obs->observe(at::randn({2, 3, 4}));
  const StateDict before = obs->state();
  for (float bad : {NAN, INFINITY, -INFINITY}) {
    at::Tensor x = at::randn({2, 3, 4});
    x[1][2][3] = bad;
    EXPECT_THROW(obs->observe(x), DataError) << bad;
    expect_same_state(before, obs->state());
  }
  EXPECT_TRUE(finite_positive_scale(obs->calculate_qparams()));
}

TEST_P(EveryObserver, StateRoundTripIsBitExact) {
  at::manual_seed(3);
  const std::vector<at::Tensor> batches = {at::randn({2, 3, 4, 5}), at::randn({2, 3, 4, 5}).mul(2.0),
                                           at::randn({2, 3, 4, 5}).add(0.5)};
  auto a = make(GetParam(), per_channel_scheme());
  a->observe(batches[0]);
  a->observe(batches[1]);
  auto b = make(GetParam(), per_channel_scheme());
  b->load_state(a->state());
  expect_same_state(a->state(), b->state());
  const QParams qa = a->calculate_qparams(), qb = b->calculate_qparams();
  EXPECT_TRUE(tensors_bitwise_equal(qa.scale, qb.scale));
  EXPECT_TRUE(tensors_bitwise_equal(qa.zero_point, qb.zero_point));
  a->observe(batches[2]);
  b->observe(batches[2]);
  expect_same_state(a->state(), b->state());
  StateDict extra = a->state();
  extra["bogus"] = at::zeros({1});
  EXPECT_THROW(b->load_state(extra), DataError);
  b->reset();
  EXPECT_EQ(b->max_val().item<float>(), -INFINITY);
}

TEST_P(EveryObserver, UnknownParameterIsAConfigErrorWithLocation) {
  Params p("extra_qconfig.w_observer_extra_args");
  p.set("no_such_key", 1.0, SourceLocation{"cfg.toml", 12, 5});
  try {
    make_observer(GetParam(), scheme_of(8, true), p);
    FAIL() << "accepted an unknown parameter";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.toml:12:5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no_such_key"), std::string::npos) << e.what();
  }
}

TEST_P(EveryObserver, AllBitWidthsGiveFiniteScalesWithinRange) {
  at::manual_seed(5);
  const at::Tensor x = at::randn({8, 16});
  for (int bit = 2; bit <= 16; ++bit)
    for (bool sym : {true, false}) {
      if (is_vitis(GetParam()) && !sym) continue;
      auto obs = make(GetParam(), scheme_of(bit, sym));
      obs->observe(x);
      const QParams q = obs->calculate_qparams();
      ASSERT_TRUE(finite_positive_scale(q)) << bit << " " << sym;
      // Codes of the range must fit: the scale covers at least a fraction of the data.
      EXPECT_LE(q.scale.max().item<float>(), 2 * x.abs().max().item<float>()) << bit;
    }
}

INSTANTIATE_TEST_SUITE_P(Plugins, EveryObserver, ::testing::ValuesIn(all_observers()),
                         [](const auto& info) { return info.param; });

// ---------------------------------------------------------------- per-channel layout

TEST(PerChannel, MinMaxOnEveryAxisMatchesAtenReductions) {
  at::manual_seed(11);
  const at::Tensor x = at::randn({3, 4, 5, 6});
  for (int axis = 0; axis < 4; ++axis) {
    auto obs = make_observer("MinMaxObserver", scheme_of(8, false, axis));
    obs->observe(x);
    std::vector<int64_t> dims;
    for (int d = 0; d < 4; ++d)
      if (d != axis) dims.push_back(d);
    EXPECT_TRUE(tensors_bitwise_equal(obs->min_val(), at::amin(x, dims))) << axis;
    EXPECT_TRUE(tensors_bitwise_equal(obs->max_val(), at::amax(x, dims))) << axis;
    const QParams expected = qparams_from_minmax(at::amin(x, dims), at::amax(x, dims), obs->qscheme(), "ref");
    EXPECT_TRUE(tensors_bitwise_equal(obs->calculate_qparams().scale, expected.scale)) << axis;
  }
}

TEST(PerChannel, VitisSearchPerChannelEqualsPerTensorOnEachSliceAndCompatFallsBack) {
  at::manual_seed(14);
  const at::Tensor x = at::randn({5, 3, 40}).mul(at::linspace(0.1, 20.0, 3).reshape({1, 3, 1}));
  for (QuantType qt : {QuantType::Input, QuantType::Param, QuantType::Tensor}) {
    auto pc = make_observer("MinMaxFloorObserver", scheme_of(8, true, 1));
    pc->set_quant_type(qt);
    pc->observe(x);
    const at::Tensor scales = pc->calculate_qparams().scale;
    ASSERT_EQ(scales.numel(), 3);
    for (int c = 0; c < 3; ++c) {
      auto pt = make_observer("MinMaxFloorObserver", scheme_of(8, true));
      pt->set_quant_type(qt);
      pt->observe(x.select(1, c).contiguous());
      EXPECT_EQ(scales[c].item<float>(), pt->calculate_qparams().scale.item<float>()) << c;
    }
    EXPECT_NE(scales[0].item<float>(), scales[2].item<float>());
    Params compat;
    compat.set("mqbench_compat", true);
    auto mq = make_observer("MinMaxFloorObserver", scheme_of(8, true, 1), compat);
    mq->set_quant_type(qt);
    mq->observe(x);
    auto whole = make_observer("MinMaxFloorObserver", scheme_of(8, true));
    whole->set_quant_type(qt);
    whole->observe(x);
    EXPECT_TRUE(tensors_bitwise_equal(mq->calculate_qparams().scale, whole->calculate_qparams().scale));
  }
}

TEST(PerChannel, MomentObserversMatchAtenMeanAndStd) {
  at::manual_seed(12);
  const at::Tensor x = at::randn({3, 4, 5, 6}).mul(0.3).add(0.1);
  for (int axis : {0, 2, 3}) {
    std::vector<int64_t> dims;
    for (int d = 0; d < 4; ++d)
      if (d != axis) dims.push_back(d);
    Params compat;
    compat.set("mqbench_compat", true);
    auto lsqp = make_observer("LSQPlusObserver", scheme_of(8, true, axis), compat);
    lsqp->observe(x);
    EXPECT_TRUE(tensors_close(lsqp->state().at("mean"), at::mean(x, dims), 1e-5, 1e-7)) << axis;
    EXPECT_TRUE(tensors_close(lsqp->state().at("std"), at::std(x, dims, true), 1e-5, 1e-7)) << axis;
    auto lsq = make_observer("LSQObserver", scheme_of(8, true, axis));
    lsq->observe(x);
    EXPECT_TRUE(tensors_close(lsq->state().at("tensor_norm"), at::mean(x.abs(), dims), 1e-5, 1e-7)) << axis;
  }
}

TEST(PerChannel, QuantileAndMsePerChannelEqualPerTensorOnEachSlice) {
  at::manual_seed(13);
  const at::Tensor x = at::randn({4, 3, 50});
  Params q80;
  q80.set("iters_per_tensor", int64_t{80});
  auto quant = make_observer("EMAQuantileObserver", scheme_of(8, true, 1));
  auto mse = make_observer("MSEObserver", scheme_of(4, false, 1));
  quant->observe(x);
  mse->observe(x);
  for (int c = 0; c < 3; ++c) {
    const at::Tensor slice = x.select(1, c).contiguous();
    auto q1 = make_observer("EMAQuantileObserver", scheme_of(8, true));
    q1->observe(slice);
    EXPECT_EQ(quant->min_val()[c].item<float>(), q1->min_val().item<float>()) << c;
    EXPECT_EQ(quant->max_val()[c].item<float>(), q1->max_val().item<float>()) << c;
    auto m1 = make_observer("MSEObserver", scheme_of(4, false), q80);
    m1->observe(slice);
    EXPECT_EQ(mse->min_val()[c].item<float>(), m1->min_val().item<float>()) << c;
    EXPECT_EQ(mse->max_val()[c].item<float>(), m1->max_val().item<float>()) << c;
  }
}

// ---------------------------------------------------------------- MQBench differences

TEST(Differences, ClipStdClipsByDefaultAndUnitesInCompat) {
  at::manual_seed(21);
  at::Tensor x = at::randn({1000});
  x[0] = 40.0f;  // an outlier far beyond 2.6 sigma
  const float mean = x.mean().item<float>(), sd = x.std().item<float>();
  auto clip = make_observer("ClipStdObserver", scheme_of(8, true));
  clip->observe(x);
  EXPECT_NEAR(clip->max_val().item<float>(), mean + 2.6f * sd, 1e-4);
  EXPECT_NEAR(clip->min_val().item<float>(), std::max(mean - 2.6f * sd, x.min().item<float>()), 1e-4);
  Params compat;
  compat.set("mqbench_compat", true);
  auto mq = make_observer("ClipStdObserver", scheme_of(8, true), compat);
  mq->observe(x);
  EXPECT_EQ(mq->max_val().item<float>(), 40.0f);
}

TEST(Differences, LsqEpsGuardAndCompatZeroScale) {
  auto lsq = make_observer("LSQObserver", scheme_of(8, true));
  lsq->observe(at::zeros({10}));
  EXPECT_EQ(lsq->calculate_qparams().scale.item<float>(), kObserverEps);
  Params compat;
  compat.set("mqbench_compat", true);
  auto mq = make_observer("LSQObserver", scheme_of(8, true), compat);
  mq->observe(at::zeros({10}));
  EXPECT_EQ(mq->calculate_qparams().scale.item<float>(), 0.0f);
}

TEST(Differences, LsqPlusPerChannelExtremaAreGlobalOnlyInCompat) {
  at::manual_seed(22);
  const at::Tensor x = at::rand({4, 10});
  auto own = make_observer("LSQPlusObserver", scheme_of(8, false, 0));
  own->observe(x);
  EXPECT_TRUE(tensors_bitwise_equal(own->min_val(), at::amin(x, {1})));
  Params compat;
  compat.set("mqbench_compat", true);
  auto mq = make_observer("LSQPlusObserver", scheme_of(8, false, 0), compat);
  mq->observe(x);
  EXPECT_EQ(mq->min_val().dim(), 0);
  EXPECT_EQ(mq->min_val().item<float>(), x.min().item<float>());
}

TEST(Differences, PotModeLargeExponentsDoNotWrapByDefault) {
  // max |x| = 1e5 at 8 bit: the search picks e = -10 (scale 1024), below MQBench's -7 slot.
  const at::Tensor x = at::linspace(-1e5, 1e5, 1001);
  auto own = make_observer("PoTModeObserver", scheme_of(8, true));
  own->set_quant_type(QuantType::Input);
  own->observe(x);
  const float b = std::max(-1e5f / -128.0f, 1e5f / 127.0f);
  const float expected = std::ldexp(1.0f, -static_cast<int>(std::floor(std::log2(1.0f / b))));
  EXPECT_EQ(own->calculate_qparams().scale.item<float>(), expected);
  EXPECT_EQ(expected, 1024.0f);
  Params compat;
  compat.set("mqbench_compat", true);
  auto mq = make_observer("PoTModeObserver", scheme_of(8, true), compat);
  mq->set_quant_type(QuantType::Input);
  mq->observe(x);
  // MQBench: counter[-10 + 7] is counter[17], read back as exponent 10.
  EXPECT_EQ(mq->calculate_qparams().scale.item<float>(), std::ldexp(1.0f, -10));
}

TEST(Differences, EmaQuantileConstantTensorKeepsItsRange) {
  auto own = make_observer("EMAQuantileObserver", scheme_of(8, false));
  own->observe(at::full({100}, 0.75f));
  EXPECT_EQ(own->min_val().item<float>(), 0.75f);
  EXPECT_EQ(own->max_val().item<float>(), 0.75f);
  EXPECT_NEAR(own->calculate_qparams().scale.item<float>(), 0.75f / 255.0f, 1e-9);
  Params compat;
  compat.set("mqbench_compat", true);
  auto mq = make_observer("EMAQuantileObserver", scheme_of(8, false), compat);
  mq->observe(at::full({100}, 0.75f));
  EXPECT_THROW(mq->calculate_qparams(), DataError);
  EXPECT_THROW(make_observer("EMAQuantileObserver", scheme_of(8, false, 0), compat), ConfigError);
}

TEST(Differences, VitisObserversRefuseAsymmetricNonNegativeData) {
  for (const char* name : {"MinMaxFloorObserver", "EMAMinMaxFloorObserver", "PoTModeObserver"}) {
    auto obs = make(name, scheme_of(8, false));
    obs->observe(at::rand({10}));
    EXPECT_THROW(obs->calculate_qparams(), DataError) << name;
    auto unset = make_observer(name, scheme_of(8, true));
    unset->observe(at::rand({10}));
    EXPECT_THROW(unset->calculate_qparams(), ConfigError) << name;
  }
}

}  // namespace
}  // namespace mqb::test

namespace mqb::test {
namespace {

TEST(Robustness, RangeBeyondFloat32ScaleIsADataError) {
  at::Tensor x = at::zeros({4});
  x[0] = -3e38f;
  x[1] = 3e38f;
  auto obs = make_observer("MinMaxObserver", scheme_of(8, false));
  obs->observe(x);
  EXPECT_THROW(obs->calculate_qparams(), DataError);
}

TEST(Robustness, ChangingChannelCountIsADataError) {
  for (const char* name : {"MinMaxObserver", "EMAMinMaxObserver", "MSEObserver", "EntropyObserver"}) {
    auto obs = make_observer(name, scheme_of(8, true, 0));
    obs->observe(at::randn({4, 6}));
    EXPECT_THROW(obs->observe(at::randn({5, 6})), DataError) << name;
  }
}

TEST(Robustness, OtherDtypesAndLayoutsAreObservedAsFloat32) {
  at::manual_seed(31);
  const at::Tensor x = at::randn({6, 5});
  auto a = make_observer("MinMaxObserver", scheme_of(8, true, 1));
  auto b = make_observer("MinMaxObserver", scheme_of(8, true, 1));
  a->observe(x);
  b->observe(x.to(at::kDouble).t().contiguous().t());  // float64, column-major
  EXPECT_TRUE(tensors_bitwise_equal(a->min_val(), b->min_val()));
  EXPECT_TRUE(tensors_bitwise_equal(a->max_val(), b->max_val()));
}

}  // namespace
}  // namespace mqb::test
