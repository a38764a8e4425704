// JSON forms of core values shared by the commands' --json outputs.
#pragma once
#include <nlohmann/json.hpp>

#include "mqb/host/config.h"

namespace mqb::cli {

nlohmann::json to_json(const QScheme& s);
nlohmann::json to_json(const Params& p);
nlohmann::json to_json(const QConfigSide& side);
nlohmann::json to_json(const ResolvedConfig& r);

}  // namespace mqb::cli
