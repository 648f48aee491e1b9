// A writer for the crash-safety test: writes two different complete reports to PATH, in turn, for ever
// (until killed), after saying "written MS" once the first is whole. Each is a few megabytes, so that a
// kill lands in the middle of a write often.
#include "twb/report.h"

#include <chrono>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PATH\n", argv[0]);
        return 2;
    }
    twb::Report versions[2];
    for (int v = 0; v < 2; ++v) {
        twb::RunRecord run;
        run.ok = true;
        run.label = v == 0 ? "version A" : "version B";
        for (int i = 0; i < 150000 + v * 50000; ++i)
            run.samplesNs.push_back(1000.0 + i % 977 + v);
        versions[v].runs.push_back(run);
    }
    // One whole write first, so that every kill finds a complete old file, however slow the build; how
    // long it took tells the test over what span to spread its kills.
    const auto start = std::chrono::steady_clock::now();
    twb::writeReport(argv[1], versions[0]);
    std::printf("written %lld\n",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - start)
                                           .count()));
    std::fflush(stdout);
    for (unsigned long i = 1;; ++i)
        twb::writeReport(argv[1], versions[i % 2]);
}
