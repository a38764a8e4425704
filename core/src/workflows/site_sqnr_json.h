// The per-site SQNR list of the PTQ and QAT report.json files: [{"site", "sqnr_db"}],
// with "inf" for a site that reproduced its input exactly (JSON has no infinity).
#pragma once
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "mqb/host/prepared_model.h"

namespace mqb {

inline nlohmann::json site_sqnr_json(const std::vector<SiteError>& errors) {
  nlohmann::json sites = nlohmann::json::array();
  for (const auto& e : errors)
    sites.push_back({{"site", e.name}, {"sqnr_db", std::isfinite(e.sqnr_db) ? nlohmann::json(e.sqnr_db) : nlohmann::json("inf")}});
  return sites;
}

}  // namespace mqb
