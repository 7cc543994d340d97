#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
// In the AddressSanitizer build (scripts/test.sh --sanitize) Vulkan layers and drivers stay
// loaded until exit: the loader unloads them with dlclose, and what they leak would then be
// reported from "<unknown module>", indistinguishable from ours. Kept loaded, their leaks carry
// their library's name and scripts/lsan.supp can name them.
extern "C" int dlclose(void*) { return 0; }
#endif

// The tests never read or write the user's pipeline cache (~/.cache/vkattn): every run starts
// cold, whatever earlier runs left there. The cache's own tests give paths or turn it back on.
int main(int argc, char** argv) {
  setenv("VKATTN_CACHE", "off", 1);
  return doctest::Context(argc, argv).run();
}
