// The plugin-side helpers of the deploy interface (see mqb/deploy.h).
#include <algorithm>
#include <cmath>

#include "mqb/deploy.h"
#include "mqb/host/tensor_io.h"

namespace mqb {

namespace {

void check_channel(const DeploySite& s, size_t c) {
  if (c >= s.scale.size() || c >= s.zero_point.size())
    throw ModelError("deploy site '" + s.name + "': channel " + std::to_string(c) + " out of range (" +
                     std::to_string(s.scale.size()) + " scales)");
}

void check_plain_name(const std::string& file_name) {
  const std::filesystem::path p(file_name);
  if (file_name.empty() || p.has_parent_path() || p.filename() != p)
    throw Error("deploy: '" + file_name + "' is not a plain file name (the file goes into the deploy folder)");
}

}  // namespace

double DeploySite::range_min(size_t c) const {
  if (log_domain) return -data_max;
  check_channel(*this, c);
  return scale[c] * static_cast<double>(quant_min - zero_point[c]);
}

double DeploySite::range_max(size_t c) const {
  if (log_domain) return data_max;
  check_channel(*this, c);
  return scale[c] * static_cast<double>(quant_max - zero_point[c]);
}

double DeploySite::abs_max() const {
  if (log_domain) return data_max;
  double m = 0;
  for (size_t c = 0; c < scale.size(); ++c) m = std::max({m, std::fabs(range_min(c)), std::fabs(range_max(c))});
  return m;
}

const char* to_string(OnnxForm form) {
  switch (form) {
    case OnnxForm::QDQ: return "qdq";
    case OnnxForm::Float: return "float";
    case OnnxForm::QLinear: return "qlinear";
  }
  return "?";
}

DeployContext::~DeployContext() = default;

void DeployContext::record(const std::filesystem::path& file) {
  if (std::find(written_.begin(), written_.end(), file) == written_.end()) written_.push_back(file);
}

std::filesystem::path DeployContext::write_text(const std::string& file_name, const std::string& text) {
  check_plain_name(file_name);
  const std::filesystem::path file = out_dir() / file_name;
  write_text_file(file, text);
  record(file);
  return file;
}

std::filesystem::path DeployContext::write_json(const std::string& file_name, const nlohmann::json& value) {
  return write_text(file_name, value.dump(2) + "\n");
}

const DeploySite& find_site(const DeployContext& ctx, const std::string& name) {
  for (const DeploySite& s : ctx.sites())
    if (s.name == name) return s;
  throw ModelError("deploy: no enabled site named '" + name + "'");
}

}  // namespace mqb
