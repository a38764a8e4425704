// Behaviour of the nine quantizer plugins beyond MQBench's numbers: state save/load
// (bit-exact round trip, parameters stay the optimizer's leaves), the switches and
// modes, parameter validation, our published-algorithm defaults for PACT / TQT / DSQ,
// QDrop's random drop, AdaRound's hard values, and edge cases (NaN/Inf, zero or
// negative learned scales, bit widths out of range).
#include <gtest/gtest.h>

#include <ATen/ops/fake_quantize_per_tensor_affine.h>
#include <ATen/ops/full.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/tensor.h>

#include <cmath>

#include "mqb/adaround.h"
#include "quantizer_test_util.h"
#include "support/tensor_compare.h"

namespace mqb::test {
namespace {

const char* const kAll[] = {"FixedFakeQuantize",  "LearnableFakeQuantize", "NNIEFakeQuantize",
                            "DoReFaFakeQuantize", "DSQFakeQuantize",       "PACTFakeQuantize",
                            "TqtFakeQuantize",    "AdaRoundFakeQuantize",  "QDropFakeQuantize"};

bool per_channel_capable(const std::string& name) { return name != "TqtFakeQuantize" && name != "NNIEFakeQuantize"; }

std::shared_ptr<FakeQuantize> make(const std::string& name, bool per_channel) {
  auto fq = make_quantizer(name, scheme(8, true, per_channel));
  if (name == "TqtFakeQuantize") fq->set_quant_type(QuantType::Tensor);
  return fq;
}

at::Tensor data(uint64_t seed) {
  at::manual_seed(seed);
  return at::randn({4, 3, 5}, at::kFloat).mul(0.7);
}

TEST(QuantizerBehaviour, StateRoundTripIsBitExactAndKeepsParametersUsable) {
  for (const char* name : kAll) {
    for (const bool pc : {false, true}) {
      if (pc && !per_channel_capable(name)) continue;
      SCOPED_TRACE(std::string(name) + (pc ? " per-channel" : " per-tensor"));
      auto a = make(name, pc);
      a->forward(data(1));
      a->forward(data(2));
      if (auto* ada = dynamic_cast<AdaRoundExtension*>(a.get())) ada->init(data(2), "learned_hard_sigmoid");
      const StateDict st = a->state();
      auto b = make(name, pc);
      b->forward(data(3));  // different state (and per-channel shapes) before loading
      const NamedTensors before = b->parameters();
      b->load_state(st);
      const StateDict back = b->state();
      ASSERT_EQ(back.size(), st.size());
      for (const auto& kv : st) {
        ASSERT_TRUE(back.count(kv.first)) << kv.first;
        EXPECT_EQ(back.at(kv.first).sizes(), kv.second.sizes()) << kv.first;
        EXPECT_EQ(back.at(kv.first).scalar_type(), kv.second.scalar_type()) << kv.first;
        EXPECT_TRUE(tensors_bitwise_equal(back.at(kv.first), kv.second)) << kv.first;
      }
      // Parameters created before loading are still the ones the module uses.
      for (const auto& p : before) {
        const at::Tensor now = parameter(*b, p.first);
        EXPECT_TRUE(now.is_same(p.second)) << p.first << " was replaced by load_state";
        EXPECT_TRUE(now.is_leaf() && now.requires_grad()) << p.first;
      }
      // Same state, same results.
      a->set_observer_enabled(false);
      b->set_observer_enabled(false);
      EXPECT_TRUE(tensors_bitwise_equal(a->forward(data(4)), b->forward(data(4))));
    }
  }
}

TEST(QuantizerBehaviour, ModesSwitchObserverAndFakeQuant) {
  for (const char* name : kAll) {
    SCOPED_TRACE(name);
    auto fq = make(name, false);
    const at::Tensor x = data(5);
    fq->set_mode(QuantMode::Calibrate);
    EXPECT_TRUE(fq->observer_enabled());
    EXPECT_FALSE(fq->fake_quant_enabled());
    const at::Tensor y = fq->forward(x);
    if (std::string(name) == "DoReFaFakeQuantize") {
      EXPECT_LE(y.abs().max().item<float>(), 1.0f);  // DoReFa's transform is always applied
    } else if (std::string(name) != "PACTFakeQuantize") {
      EXPECT_TRUE(tensors_bitwise_equal(y, x)) << "fake quant off must pass the input through";
    }
    EXPECT_FALSE(std::isinf(fq->observer().max_val().max().item<float>())) << "the observer saw no data";
    fq->set_mode(QuantMode::Quantize);
    const StateDict obs_before = fq->observer().state();
    fq->forward(data(6).mul(10));
    if (std::string(name) != "PACTFakeQuantize") {  // PACT pins the observer range to alpha
      for (const auto& kv : obs_before)
        EXPECT_TRUE(tensors_bitwise_equal(fq->observer().state().at(kv.first), kv.second)) << kv.first;
    }
  }
}

TEST(QuantizerBehaviour, QParamsAreSnapshotsNotViews) {
  for (const char* name : {"FixedFakeQuantize", "LearnableFakeQuantize", "QDropFakeQuantize"}) {
    auto fq = make(name, false);
    fq->forward(data(16));
    const QParams before = fq->qparams();
    const float s = before.scale.item<float>();
    fq->forward(data(17).mul(50));  // a much wider range: new qparams
    EXPECT_EQ(before.scale.item<float>(), s) << name;
    EXPECT_NE(fq->qparams().scale.item<float>(), s) << name;
  }
}

TEST(QuantizerBehaviour, ParametersAreValidated) {
  for (const char* name : kAll) {
    Params p("fakeq_params");
    p.set("no_such_key", int64_t{1});
    EXPECT_THROW(make_quantizer(name, scheme(8, true), p), ConfigError) << name;
  }
  Params bad_alpha("fakeq_params");
  bad_alpha.set("alpha", 1.5);
  EXPECT_THROW(make_quantizer("DSQFakeQuantize", scheme(8, true), bad_alpha), ConfigError);
  Params bad_prob("fakeq_params");
  bad_prob.set("prob", 1.5);
  EXPECT_THROW(make_quantizer("QDropFakeQuantize", scheme(8, true), bad_prob), ConfigError);
  // Bit widths outside 2..16 are refused for every quantizer.
  for (const char* name : kAll)
    for (const int bit : {0, 1, 17, 64}) EXPECT_THROW(make_quantizer(name, scheme(bit, true)), ConfigError) << name;
  // TQT: symmetric per-tensor only (MQBench asserts at its first forward).
  EXPECT_THROW(make_quantizer("TqtFakeQuantize", scheme(8, false)), ConfigError);
  EXPECT_THROW(make_quantizer("TqtFakeQuantize", scheme(8, true, true)), ConfigError);
}

TEST(QuantizerBehaviour, NanAndInfInputs) {
  const at::Tensor special = at::tensor({NAN, INFINITY, -INFINITY, 0.5f, -0.25f}, at::kFloat);
  for (const char* name : kAll) {
    SCOPED_TRACE(name);
    auto fq = make(name, false);
    // Calibrating on NaN is a clear error (NaN bounds), never a crash.
    if (std::string(name) != "DoReFaFakeQuantize" && std::string(name) != "NNIEFakeQuantize") {
      EXPECT_THROW(fq->forward(special), DataError);
    }
  }
  // Fixed, after calibration: as ATen, NaN and +-inf map to quant_min and get no gradient.
  auto fq = make_quantizer("FixedFakeQuantize", scheme(8, false));
  fq->forward(at::tensor({-1.0f, 1.0f}));
  fq->set_mode(QuantMode::Quantize);
  at::Tensor x = special.clone().set_requires_grad(true);
  at::Tensor y = fq->forward(x);
  y.sum().backward();
  const float s = fq->qparams().scale.item<float>();
  const int64_t z = fq->qparams().zero_point.item<int64_t>();
  EXPECT_TRUE(tensors_bitwise_equal(y, at::fake_quantize_per_tensor_affine(special, s, z, 0, 255)));
  EXPECT_EQ(y[0].item<float>(), (0.0f - static_cast<float>(z)) * s);
  EXPECT_EQ(x.grad()[0].item<float>(), 0.0f);
  EXPECT_EQ(x.grad()[1].item<float>(), 0.0f);
  EXPECT_EQ(x.grad()[3].item<float>(), 1.0f);
}

TEST(QuantizerBehaviour, ZeroOrNegativeLearnedScalesAreUsedAsAbsAtLeastEps) {
  for (const char* name : {"LearnableFakeQuantize", "QDropFakeQuantize"}) {
    SCOPED_TRACE(name);
    auto fq = make(name, false);
    fq->forward(data(7));
    fq->set_mode(QuantMode::Quantize);
    at::Tensor s = parameter(*fq, "scale");
    const float good = s.item<float>();
    {
      at::NoGradGuard ng;
      s.fill_(-good);  // an optimizer step overshot
    }
    const at::Tensor y_neg = fq->forward(data(8));
    EXPECT_EQ(s.item<float>(), good);
    {
      at::NoGradGuard ng;
      s.fill_(0.0f);
    }
    const at::Tensor y0 = fq->forward(data(8));
    EXPECT_EQ(s.item<float>(), 1.1920928955078125e-07f);
    EXPECT_TRUE(y0.isfinite().all().item<bool>());
    EXPECT_TRUE(y_neg.isfinite().all().item<bool>());
  }
}

TEST(QuantizerBehaviour, PactDefaultKeepsClippingAndLearningAfterCalibration) {
  for (const bool compat : {false, true}) {
    Params p("fakeq_params");
    p.set("alpha", 0.5);
    p.set("mqbench_compat", compat);
    auto fq = make_quantizer("PACTFakeQuantize", scheme(8, false), p);
    fq->forward(data(9));
    fq->set_mode(QuantMode::Quantize);
    at::Tensor x = data(10).mul(3).set_requires_grad(true);
    const at::Tensor y = fq->forward(x);
    y.sum().backward();
    const at::Tensor alpha = parameter(*fq, "alpha");
    if (compat) {  // MQBench: no clip, alpha unused once the observer is off
      EXPECT_FALSE(alpha.grad().defined());
    } else {
      EXPECT_LE(y.max().item<float>(), 0.5f + 1e-6f);
      ASSERT_TRUE(alpha.grad().defined());
      EXPECT_EQ(alpha.grad().item<float>(), x.gt(0.5).sum().item<float>());  // d clip / d alpha = 1 where clipped
    }
  }
}

TEST(QuantizerBehaviour, TqtDefaultLearnsAPowerOfTwoThresholdCompatHasNone) {
  auto tqt = make_quantizer("TqtFakeQuantize", scheme(8, true), Params("fakeq_params"), "MinMaxObserver");
  tqt->set_quant_type(QuantType::Param);
  const at::Tensor y = tqt->forward(data(11));
  const double s = tqt->qparams().scale.item<double>();
  EXPECT_EQ(std::exp2(std::round(std::log2(s))), s);
  // y is on the power-of-two grid: y / s integral in [-128, 127].
  const at::Tensor q = y.div(s);
  EXPECT_TRUE(tensors_bitwise_equal(q, q.round().clamp(-128, 127)));
  ASSERT_EQ(tqt->parameters().size(), 1u);
  EXPECT_EQ(tqt->parameters()[0].first, "log2_t");
  Params compat("fakeq_params");
  compat.set("mqbench_compat", true);
  auto mq = make_quantizer("TqtFakeQuantize", scheme(8, true), compat);
  EXPECT_TRUE(mq->parameters().empty());
  // MQBench needs the quant type (its Vitis rounding method) before the first forward.
  EXPECT_THROW(mq->forward(data(11)), ConfigError);
}

TEST(QuantizerBehaviour, DsqObservesByTheSwitchUnlessCompat) {
  for (const bool compat : {false, true}) {
    Params p("fakeq_params");
    p.set("mqbench_compat", compat);
    auto fq = make_quantizer("DSQFakeQuantize", scheme(8, true), p);
    fq->forward(data(12));
    fq->set_observer_enabled(false);
    const float max_before = fq->observer().max_val().item<float>();
    fq->forward(data(13).mul(100));
    EXPECT_EQ(fq->observer().max_val().item<float>() != max_before, compat);
  }
}

TEST(QuantizerBehaviour, QDropDropsWithProbabilityAndIsSeedable) {
  auto make_drop = [](double prob, int64_t seed) {
    Params p("fakeq_params");
    p.set("prob", prob);
    p.set("seed", seed);
    auto fq = make_quantizer("QDropFakeQuantize", scheme(4, true), p);
    return fq;
  };
  at::manual_seed(14);
  const at::Tensor x = at::randn({20000}, at::kFloat);
  auto run = [&](double prob, int64_t seed) {
    auto fq = make_drop(prob, seed);
    fq->forward(x.narrow(0, 0, 10));  // calibrate
    fq->set_mode(QuantMode::Quantize);
    return fq->forward(x);
  };
  auto none = make_drop(1.0, 0);
  none->forward(x.narrow(0, 0, 10));
  none->set_mode(QuantMode::Quantize);
  const at::Tensor quantized = none->forward(x);
  EXPECT_TRUE(tensors_bitwise_equal(run(0.0, 1), x));
  const at::Tensor half = run(0.5, 1);
  const double kept = half.eq(quantized).logical_and(quantized.ne(x)).sum().item<double>() /
                      quantized.ne(x).sum().item<double>();
  EXPECT_NEAR(kept, 0.5, 0.03);
  EXPECT_TRUE(half.eq(quantized).logical_or(half.eq(x)).all().item<bool>());
  EXPECT_TRUE(tensors_bitwise_equal(run(0.5, 1), half));
  EXPECT_FALSE(tensors_bitwise_equal(run(0.5, 2), half));
  auto* ext = dynamic_cast<QDropExtension*>(none.get());
  ASSERT_NE(ext, nullptr);
  EXPECT_THROW(ext->set_prob(-0.1), ConfigError);
}

TEST(QuantizerBehaviour, AdaRoundHardValuesRoundToNearestRightAfterInit) {
  auto fq = make_quantizer("AdaRoundFakeQuantize", scheme(4, true));
  const at::Tensor w = data(15);
  fq->forward(w);
  auto* ada = dynamic_cast<AdaRoundExtension*>(fq.get());
  ASSERT_NE(ada, nullptr);
  EXPECT_THROW(ada->round_loss(2.0), Error);
  EXPECT_THROW(ada->init(w, "stochastic"), ConfigError);
  ada->init(w, "learned_hard_sigmoid");
  EXPECT_FALSE(fq->observer_enabled());
  const float s = fq->qparams().scale.item<float>();
  // h(alpha) == frac(w/s): soft value is w itself (up to rounding) inside the range.
  const at::Tensor soft = fq->forward(w);
  const at::Tensor inside = w.div(s).abs().lt(7);
  EXPECT_TRUE(soft.sub(w).abs().le(1e-5).logical_or(inside.logical_not()).all().item<bool>());
  // Hard: alpha >= 0 iff frac >= ~0.5, i.e. round to nearest (ties aside).
  const at::Tensor hard = ada->get_hard_value(w);
  const at::Tensor nearest = at::fake_quantize_per_tensor_affine(w, s, 0, -8, 7);
  EXPECT_LE(hard.ne(nearest).sum().item<int64_t>(), 1);
  EXPECT_GE(ada->round_loss(2.0).item<double>(), 0.0);
}

}  // namespace
}  // namespace mqb::test
