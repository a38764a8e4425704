// What a PreparedModel holds (shared by prepare.cpp and prepared_model.cpp).
#pragma once
#include <torch/csrc/jit/api/module.h>

#include <map>

#include "mqb/host/prepared_model.h"
#include "site_runtime.h"

namespace mqb {

struct PreparedModel::Impl {
  torch::jit::Module module;  // sites inserted into the top-level forward
  std::string backend;
  std::vector<SiteInfo> sites;
  std::vector<std::shared_ptr<prep::SiteState>> states;
  std::vector<int64_t> ids;  // global site ids, parallel to `sites`
  std::map<std::string, size_t> index;
  std::vector<std::string> unsupported;

  ~Impl() {
    for (int64_t id : ids) prep::unregister_site(id);
  }
  size_t find(const std::string& site) const;
  // Rewrites the site ids in the forward graph (old id -> position in `sites`) to the
  // ids this Impl registered.
  void renumber_graph(const std::map<int64_t, size_t>& old_to_index);
};

namespace prep {
// Creates a site's quantizer through the registry.
std::shared_ptr<FakeQuantize> make_quantizer(const QConfigSide& c, Registry& registry);
// Registers every site of `impl` (states and ids from impl.sites).
void register_sites(PreparedModel::Impl& impl, Registry& registry);
torch::jit::Module load_torchscript(const std::filesystem::path& file);
torch::jit::Module load_torchscript_bytes(const std::string& bytes, const std::string& what);
}  // namespace prep

}  // namespace mqb
