// The reconstruction driver: MQBench's ptq_reconstruction (spec §5.8) over the segments
// of a prepared model (see mqb/host/advanced_ptq.h).
//
// Segments run in graph order on every calibration batch, twice: in float (all sites
// disabled: the targets) and quantized (the inputs the next unit really sees, after the
// units before it were reconstructed). A unit's rounding variables (and, with scale_lr,
// its activation scales) are learned on these caches, then hard rounding is written
// into its weights.
#include "mqb/host/advanced_ptq.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/where.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <unordered_map>

#include "mqb/host/sgd.h"
#include "adam.h"
#include "mqb/adaround.h"
#include "mqb/host/progress.h"
#include "segments.h"

namespace mqb {

namespace {

using Values = std::vector<c10::IValue>;   // one segment's inputs or outputs for one batch
using Batches = std::vector<Values>;        // ... for every batch

bool is_float_tensor(const c10::IValue& v) { return v.isTensor() && v.toTensor().is_floating_point(); }

// MQBench's lp_loss(p = 2): sum over dim 1 of the squared difference, mean over the rest;
// summed over the segment's tensor outputs.
at::Tensor reconstruction_loss(const Values& out, const Values& target) {
  at::Tensor total;
  for (size_t k = 0; k < out.size(); ++k) {
    if (!is_float_tensor(out[k])) continue;
    const at::Tensor d = out[k].toTensor().sub(target[k].toTensor());
    const at::Tensor sq = d.mul(d);
    const at::Tensor l = (sq.dim() >= 2 ? sq.sum(1) : sq).mean();
    total = total.defined() ? total.add(l) : l;
  }
  if (!total.defined()) throw ModelError("advanced PTQ: a reconstructed unit produces no float tensor");
  return total;
}

// MQBench's LinearTempDecay: start during warm-up, then linear to end.
double temperature(const AdvancedPtqConfig& c, int64_t t) {
  const double t_max = static_cast<double>(c.max_count);
  const double start_decay = c.warm_up * t_max;
  if (static_cast<double>(t) < start_decay) return c.b_start;
  const double rel = (static_cast<double>(t) - start_decay) / (t_max - start_decay);
  return c.b_end + (c.b_start - c.b_end) * std::max(0.0, 1 - rel);
}

}  // namespace

std::string reconstruction_method(const AdvancedPtqConfig& c) {
  if (c.pattern == "layer") return c.prob < 1 ? "AdaRound+drop" : "AdaRound";
  return c.prob < 1 ? "QDrop" : "BRECQ";
}

struct Reconstruction::Impl {
  PreparedModel& model;
  AdvancedPtqConfig cfg;
  std::vector<at::Tensor> batches;
  aptq::Partition part;
  std::unordered_map<aptq::ValueId, std::vector<c10::IValue>> fp, q;  // live values per batch
  std::unordered_map<aptq::ValueId, size_t> last_use;                 // segment index
  size_t next = 0;                                                    // next segment to process
  std::vector<std::pair<at::Tensor, bool>> requires_grad_before;

  // The unit being reconstructed.
  struct Current {
    size_t segment = 0;
    Batches q_in, fp_in, fp_out;
    double error_before = 0;  // nearest rounding, before the rounding variables exist
    std::vector<AdaRoundExtension*> ada;
    std::vector<at::Tensor> weights;
    std::vector<QDropExtension*> drop;
    std::unique_ptr<aptq::Adam> alpha_opt, scale_opt;
    std::mt19937_64 rng;
    at::Generator gen;
  } cur;

  Impl(PreparedModel& m, const AdvancedPtqConfig& c, std::vector<at::Tensor> b)
      : model(m), cfg(c), batches(std::move(b)) {
    if (batches.empty()) throw DataError("advanced PTQ needs calibration batches");
    part = aptq::partition_model(model, cfg.pattern);
    if (part.inputs.size() != 1)
      throw ModelError("advanced PTQ supports models with one tensor input; this forward takes " +
                       std::to_string(part.inputs.size()));
    for (size_t s = 0; s < part.segments.size(); ++s)
      for (aptq::ValueId v : part.segments[s].live_in) last_use[v] = s;
    for (const auto& x : batches) {
      fp[part.inputs[0]].emplace_back(x);
      q[part.inputs[0]].emplace_back(x);
    }
    model.set_training(false);
    model.set_mode(QuantMode::Quantize);
    // Only the rounding variables (and scales) learn: no gradients for anything else.
    for (const auto& p : aptq::module_parameters(model)) requires_grad_before.emplace_back(p, p.requires_grad());
    for (const auto& site : model.site_names())
      for (const auto& p : model.quantizer(site).parameters()) requires_grad_before.emplace_back(p.second, p.second.requires_grad());
    for (auto& [t, rg] : requires_grad_before)
      if (rg) t.set_requires_grad(false);
  }

  ~Impl() {
    for (auto& [t, rg] : requires_grad_before)
      if (t.is_leaf()) t.set_requires_grad(rg);
  }

  Batches gather(const std::unordered_map<aptq::ValueId, std::vector<c10::IValue>>& state, const aptq::Segment& s) const {
    Batches out(batches.size());
    for (size_t b = 0; b < batches.size(); ++b)
      for (aptq::ValueId v : s.live_in) out[b].push_back(state.at(v)[b]);
    return out;
  }

  Batches forward_all(const aptq::Segment& s, const Batches& in, QuantMode mode) {
    model.set_mode(mode);
    Batches out;
    {
      at::NoGradGuard no_grad;
      for (const auto& x : in) out.push_back(aptq::run_segment(model, s, x));
    }
    model.set_mode(QuantMode::Quantize);
    return out;
  }

  double mean_error(const Batches& out, const Batches& target) const {
    at::NoGradGuard no_grad;
    double sum = 0;
    for (size_t b = 0; b < out.size(); ++b) sum += reconstruction_loss(out[b], target[b]).item<double>();
    return sum / static_cast<double>(out.size());
  }

  void store(size_t index, const Batches& fp_out, const Batches& q_out) {
    const aptq::Segment& s = part.segments[index];
    for (size_t k = 0; k < s.live_out.size(); ++k) {
      auto& f = fp[s.live_out[k]];
      auto& qq = q[s.live_out[k]];
      f.clear();
      qq.clear();
      for (size_t b = 0; b < batches.size(); ++b) {
        f.push_back(fp_out[b][k]);
        qq.push_back(q_out[b][k]);
      }
    }
    for (auto it = last_use.begin(); it != last_use.end();) {
      if (it->second <= index) {
        fp.erase(it->first);
        q.erase(it->first);
        it = last_use.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Passes segment `index` without learning anything (glue, or units before a benchmark's).
  void pass(size_t index) {
    const aptq::Segment& s = part.segments[index];
    store(index, forward_all(s, gather(fp, s), QuantMode::Disabled), forward_all(s, gather(q, s), QuantMode::Quantize));
  }

  void setup(size_t index) {
    const aptq::Segment& s = part.segments[index];
    const ReconstructionUnit& u = part.units[static_cast<size_t>(s.unit)];
    cur = Current{};
    cur.segment = index;
    cur.q_in = gather(q, s);
    cur.fp_in = gather(fp, s);
    cur.fp_out = forward_all(s, cur.fp_in, QuantMode::Disabled);
    cur.error_before = mean_error(forward_all(s, cur.q_in, QuantMode::Quantize), cur.fp_out);
    cur.rng.seed(static_cast<uint64_t>(cfg.seed) * 0x9E3779B97F4A7C15ULL + index);
    cur.gen = at::detail::createCPUGenerator(static_cast<uint64_t>(cfg.seed) * 1000003ULL + index);
    std::vector<at::Tensor> alphas, scales;
    for (const auto& w : u.weight_sites) {
      FakeQuantize& fq = model.quantizer(w);
      auto* ada = dynamic_cast<AdaRoundExtension*>(&fq);
      if (!ada)
        throw ConfigError("advanced PTQ: weight site '" + w + "' uses " + model.sites()[site_position(w)].config.fake_quantize +
                          ", which has no learned rounding; set extra_qconfig.w_fakequantize = \"AdaRoundFakeQuantize\"");
      at::Tensor weight = aptq::module_tensor(model, w);
      ada->init(weight, cfg.round_mode);
      at::Tensor alpha = ada->alpha();
      alpha.set_requires_grad(true);
      alphas.push_back(alpha);
      cur.ada.push_back(ada);
      cur.weights.push_back(weight);
    }
    for (const auto& a : u.activation_sites) {
      FakeQuantize& fq = model.quantizer(a);
      if (cfg.prob < 1) {
        auto* drop = dynamic_cast<QDropExtension*>(&fq);
        if (!drop)
          throw ConfigError("advanced PTQ: prob = " + std::to_string(cfg.prob) + " drops activation quantization, but site '" +
                            a + "' uses " + model.sites()[site_position(a)].config.fake_quantize +
                            "; set extra_qconfig.a_fakequantize = \"QDropFakeQuantize\" (or prob = 1.0)");
        drop->set_prob(cfg.prob);
        drop->set_seed(static_cast<uint64_t>(cfg.seed) * 7919ULL + site_position(a));
        cur.drop.push_back(drop);
      }
      if (cfg.scale_lr) {
        bool found = false;
        for (auto& [name, t] : fq.parameters())
          if (name == "scale") {
            t.set_requires_grad(true);
            scales.push_back(t);
            found = true;
          }
        if (!found)
          throw ConfigError("advanced PTQ: scale_lr learns activation scales, but site '" + a + "' (" +
                            model.sites()[site_position(a)].config.fake_quantize +
                            ") has no learnable scale; use a_fakequantize = \"QDropFakeQuantize\" or leave scale_lr out");
      }
    }
    cur.alpha_opt = std::make_unique<aptq::Adam>(alphas);
    if (!scales.empty()) cur.scale_opt = std::make_unique<aptq::Adam>(scales);
  }

  size_t site_position(const std::string& name) const {
    const auto& sites = model.sites();
    for (size_t i = 0; i < sites.size(); ++i)
      if (sites[i].name == name) return i;
    return 0;
  }

  double step(int64_t it) {
    const aptq::Segment& s = part.segments[cur.segment];
    std::uniform_int_distribution<size_t> pick(0, batches.size() - 1);
    const size_t b = pick(cur.rng);
    Values in = cur.q_in[b];
    if (cfg.prob < 1) {
      // QDrop: each input element is the quantized value with probability prob, else float.
      for (size_t k = 0; k < in.size(); ++k) {
        if (!is_float_tensor(in[k])) continue;
        const at::Tensor qx = in[k].toTensor();
        const at::Tensor keep = at::rand(qx.sizes(), cur.gen, qx.options()).lt(cfg.prob);
        in[k] = at::where(keep, qx, cur.fp_in[b][k].toTensor());
      }
    }
    const Values out = aptq::run_segment(model, s, in);
    at::Tensor loss = reconstruction_loss(out, cur.fp_out[b]);
    if (static_cast<double>(it) >= cfg.warm_up * static_cast<double>(cfg.max_count)) {
      const double beta = temperature(cfg, it);
      for (auto* ada : cur.ada) loss = loss.add(ada->round_loss(beta).mul(cfg.weight));
    }
    cur.alpha_opt->zero_grad();
    if (cur.scale_opt) cur.scale_opt->zero_grad();
    loss.backward();
    cur.alpha_opt->step(cfg.lr);
    if (cur.scale_opt) cur.scale_opt->step(Sgd::cosine_lr(*cfg.scale_lr, it - 1, cfg.max_count));
    return loss.item<double>();
  }

  // Hard rounding into the weights; quantizers back to plain fake quantization.
  void finish() {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < cur.ada.size(); ++i) {
      const at::Tensor hard = cur.ada[i]->get_hard_value(cur.weights[i]);
      cur.weights[i].copy_(hard);
      cur.ada[i]->set_adaround_enabled(false);
      cur.ada[i]->alpha().set_requires_grad(false);
    }
    for (auto* d : cur.drop) d->set_prob(1.0);
    const ReconstructionUnit& u = part.units[static_cast<size_t>(part.segments[cur.segment].unit)];
    for (const auto& a : u.activation_sites)
      for (auto& [name, t] : model.quantizer(a).parameters())
        if (name == "scale" && t.is_leaf()) t.set_requires_grad(false);
    model.set_mode(QuantMode::Quantize);  // drops the weight caches
  }

  UnitResult reconstruct(size_t index, bool quiet) {
    const auto start = std::chrono::steady_clock::now();
    const aptq::Segment& s = part.segments[index];
    UnitResult r;
    r.unit = part.units[static_cast<size_t>(s.unit)];
    setup(index);
    r.error_before = cur.error_before;
    Progress progress("reconstruct " + r.unit.name, cfg.max_count, "iter", quiet);
    for (int64_t it = 1; it <= cfg.max_count; ++it) {
      r.final_loss = step(it);
      char note[48];
      std::snprintf(note, sizeof note, "loss %.5f", r.final_loss);
      progress.advance(1, note);
    }
    progress.finish();
    finish();
    r.iterations = cfg.max_count;
    const Batches q_out = forward_all(s, cur.q_in, QuantMode::Quantize);
    r.error_after = mean_error(q_out, cur.fp_out);
    store(index, cur.fp_out, q_out);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!quiet)
      std::fprintf(stderr, "  %s %s: output error vs float %.5g -> %.5g\n", r.unit.kind.c_str(), r.unit.name.c_str(),
                   r.error_before, r.error_after);
    return r;
  }
};

Reconstruction::Reconstruction(PreparedModel& model, const AdvancedPtqConfig& config, std::vector<at::Tensor> calib_batches)
    : impl_(std::make_unique<Impl>(model, config, std::move(calib_batches))) {}

Reconstruction::~Reconstruction() = default;

std::vector<ReconstructionUnit> Reconstruction::units() const { return impl_->part.units; }

ReconstructionReport Reconstruction::run(bool quiet) {
  const auto start = std::chrono::steady_clock::now();
  ReconstructionReport rep;
  rep.method = reconstruction_method(impl_->cfg);
  for (size_t s = impl_->next; s < impl_->part.segments.size(); ++s) {
    if (impl_->part.segments[s].unit >= 0)
      rep.units.push_back(impl_->reconstruct(s, quiet));
    else
      impl_->pass(s);
  }
  impl_->next = impl_->part.segments.size();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return rep;
}

void Reconstruction::begin_unit(size_t index) {
  if (index >= impl_->part.units.size())
    throw ConfigError("advanced PTQ: unit " + std::to_string(index) + " does not exist (" +
                      std::to_string(impl_->part.units.size()) + " units)");
  size_t s = impl_->next;
  for (; s < impl_->part.segments.size() && impl_->part.segments[s].unit != static_cast<int>(index); ++s) impl_->pass(s);
  if (s == impl_->part.segments.size()) throw ConfigError("advanced PTQ: unit " + std::to_string(index) + " was already passed");
  impl_->next = s;
  impl_->setup(s);
}

double Reconstruction::step(int64_t iteration) { return impl_->step(iteration); }

void Reconstruction::plain_forward_backward() {
  auto& c = impl_->cur;
  for (auto* ada : c.ada) ada->set_adaround_enabled(false);
  for (auto* d : c.drop) d->set_prob(1.0);
  for (auto& w : c.weights) w.set_requires_grad(true);
  const aptq::Segment& s = impl_->part.segments[c.segment];
  const Values out = aptq::run_segment(impl_->model, s, c.q_in[0]);
  reconstruction_loss(out, c.fp_out[0]).backward();
  for (auto& w : c.weights) {
    w.set_requires_grad(false);
    w.mutable_grad().reset();
  }
  for (auto* ada : c.ada) ada->set_adaround_enabled(true);
  for (auto* d : c.drop) d->set_prob(impl_->cfg.prob);
}

ReconstructionReport reconstruct(PreparedModel& model, const AdvancedPtqConfig& config, std::vector<at::Tensor> calib_batches,
                                 bool quiet) {
  return Reconstruction(model, config, std::move(calib_batches)).run(quiet);
}

}  // namespace mqb
