// A writer for the crash-safety test. It writes one whole report to PATH and says "written MS" (how long
// that took, so that the test knows over what span to spread its kills). Then, for each line it reads on
// stdin, it forks a child that says "child PID" and writes two different complete reports to PATH in turn,
// for ever (until killed), and says "gone" once that child has ended. Each report is a few megabytes, so
// that a kill lands in the middle of a write often. Forking spares each round the start of a process that
// loads LibTorch, which took most of a round's time.
#include "twb/report.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

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
    // One whole write first, so that every kill finds a complete old file.
    const auto start = std::chrono::steady_clock::now();
    twb::writeReport(argv[1], versions[0]);
    std::printf("written %lld\n",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - start)
                                           .count()));
    std::fflush(stdout);
    for (std::string line; std::getline(std::cin, line);) {
        const pid_t child = ::fork();
        if (child < 0) {
            std::perror("fork");
            return 1;
        }
        if (child == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL); // never left writing when the test ends early
            std::printf("child %lld\n", static_cast<long long>(::getpid()));
            std::fflush(stdout);
            for (unsigned long i = 1;; ++i)
                twb::writeReport(argv[1], versions[i % 2]);
        }
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        std::printf("gone\n");
        std::fflush(stdout);
    }
    return 0;
}
