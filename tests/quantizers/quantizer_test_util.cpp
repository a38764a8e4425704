// Helpers shared by the quantizer tests (see quantizer_test_util.h).
#include "quantizer_test_util.h"

#include "mqb/host/registry.h"

namespace mqb::test {

std::shared_ptr<FakeQuantize> make_quantizer(const std::string& quantizer, const QScheme& scheme,
                                             const Params& fakeq_params, const std::string& observer,
                                             const Params& observer_params) {
  return Registry::instance().create_quantizer(quantizer, scheme, fakeq_params, observer, observer_params);
}

Params params_from_json(const nlohmann::json& object, const std::string& path) {
  Params p(path);
  for (auto it = object.begin(); it != object.end(); ++it) {
    const auto& v = it.value();
    if (v.is_boolean()) p.set(it.key(), v.get<bool>());
    else if (v.is_number_integer()) p.set(it.key(), v.get<int64_t>());
    else if (v.is_number()) p.set(it.key(), v.get<double>());
    else if (v.is_string()) p.set(it.key(), v.get<std::string>());
  }
  return p;
}

QScheme scheme(int bit, bool symmetric, bool per_channel, bool symmetric_range) {
  QScheme s;
  s.bit = bit;
  s.symmetric = symmetric;
  s.symmetric_range = symmetric_range;
  s.per_channel = per_channel;
  s.ch_axis = per_channel ? 0 : -1;
  return s;
}

at::Tensor parameter(FakeQuantize& fq, const std::string& name) {
  for (const auto& kv : fq.parameters())
    if (kv.first == name) return kv.second;
  return at::Tensor();
}

void zero_grads(FakeQuantize& fq) {
  for (auto& kv : fq.parameters())
    if (kv.second.grad().defined()) kv.second.mutable_grad().reset();
}

}  // namespace mqb::test
