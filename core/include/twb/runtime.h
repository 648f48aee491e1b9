// Process-wide LibTorch settings the workbench controls explicitly.
#pragma once

namespace twb {

struct ThreadSettings {
    int libtorchDefault = 0; // what LibTorch chose on its own (1 where cpuinfo sees one core)
    int hardware = 0;        // std::thread::hardware_concurrency()
    int current = 0;
};

// n <= 0 means one thread per hardware thread. Returns the settings after the change.
ThreadSettings setThreads(int n);
ThreadSettings threadSettings();

} // namespace twb
