#include "validation.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
// In the AddressSanitizer build (scripts/test.sh --sanitize) Vulkan layers and drivers stay
// loaded until exit: the loader unloads them with dlclose, and what they leak would then be
// reported from "<unknown module>", indistinguishable from ours. Kept loaded, their leaks carry
// their library's name and scripts/lsan.supp can name them.
extern "C" int dlclose(void*) { return 0; }
#endif

namespace {
std::atomic<int> messages{0};
}

bool validation_requested() {
  const char* env = std::getenv("VKATTN_VALIDATION");
  return env && std::string(env) != "0";
}

void report_validation_message(const std::string& tool, const std::string& message) {
  ++messages;
  std::fprintf(stderr, "%s: validation: %s\n", tool.c_str(), message.c_str());
}

vkattn::ContextOptions sample_context_options(const std::string& device, const std::string& tool) {
  vkattn::ContextOptions options;
  options.device = device;
  options.validation = validation_requested();
  options.on_validation_message = [tool](const std::string& m) { report_validation_message(tool, m); };
  return options;
}

int exit_code(int rc, const std::string& tool) {
  if (messages == 0) return rc;
  std::fprintf(stderr, "%s: the validation layer reported %d message(s).\n", tool.c_str(), messages.load());
  return 3;
}
