#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

// The tests never read or write the user's pipeline cache (~/.cache/vkattn): every run starts
// cold, whatever earlier runs left there. The cache's own tests give paths or turn it back on.
int main(int argc, char** argv) {
  setenv("VKATTN_CACHE", "off", 1);
  return doctest::Context(argc, argv).run();
}
