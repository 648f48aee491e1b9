// The libFuzzer entry point of one target; TWB_FUZZ_TARGET names it (tests/fuzz/CMakeLists.txt).
#include "targets.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const twb::fuzz::Target* target = [] {
        const twb::fuzz::Target* t = twb::fuzz::findTarget(TWB_FUZZ_TARGET);
        if (!t) {
            std::fprintf(stderr, "no fuzz target named %s\n", TWB_FUZZ_TARGET);
            std::abort();
        }
        return t;
    }();
    target->run(data, size);
    return 0;
}
