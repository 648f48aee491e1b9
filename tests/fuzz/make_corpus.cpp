// make_corpus DATA_DIR SEEDS_DIR OUT_DIR: each target's seed corpus in OUT_DIR/<target>/, made from
// the fixtures in DATA_DIR (tests/data) the way the target reads them, and the hand-written seeds in
// SEEDS_DIR/<target>/ (tests/fuzz/seeds).
#include "targets.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s DATA_DIR SEEDS_DIR OUT_DIR\n", argv[0]);
        return 2;
    }
    const fs::path data = argv[1], seeds = argv[2], out = argv[3];
    for (const twb::fuzz::Target& target : twb::fuzz::targets()) {
        const fs::path dir = out / target.name;
        fs::create_directories(dir);
        int count = 0;
        auto put = [&](const std::string& name, const std::string& bytes) {
            std::ofstream(dir / name, std::ios::binary) << bytes;
            ++count;
        };
        for (const auto& entry : fs::directory_iterator(data)) {
            // Seeds stay small, so that the fuzzer spends its time mutating rather than reading.
            if (!entry.is_regular_file() || entry.file_size() > (1 << 20)) continue;
            const std::string name = entry.path().filename().string();
            if (!twb::fuzz::seedsFrom(target, name)) continue;
            const auto inputs = target.seed(entry.path().string());
            for (std::size_t i = 0; i < inputs.size(); ++i)
                put(name + "." + std::to_string(i), inputs[i]);
        }
        if (fs::is_directory(seeds / target.name))
            for (const auto& entry : fs::directory_iterator(seeds / target.name))
                put("seed." + entry.path().filename().string(),
                    std::string(
                        std::istreambuf_iterator<char>(std::ifstream(entry.path(), std::ios::binary).rdbuf()),
                        {}));
        std::printf("%-16s %4d seeds\n", target.name, count);
    }
}
