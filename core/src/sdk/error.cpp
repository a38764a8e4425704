// Out-of-line destructors anchor each exception's type information in libmqb_core,
// so a ConfigError thrown inside a plugin is caught by the host as a ConfigError.
#include "mqb/error.h"

namespace mqb {
Error::~Error() = default;
ConfigError::~ConfigError() = default;
PluginError::~PluginError() = default;
ModelError::~ModelError() = default;
DataError::~DataError() = default;
}  // namespace mqb
