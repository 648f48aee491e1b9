// Shared by the soak benchmarks: this process's resident set size, the bytes malloc has handed out and
// not had back, and the least-squares slope of a series. A leak grows both; memory the allocator keeps
// for reuse grows the resident set alone.
#pragma once

#include <malloc.h>

#include <fstream>
#include <string>
#include <vector>

inline double rssMiB() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return -1;
}

inline double heapInUseMiB() {
    const struct mallinfo2 m = mallinfo2(); // glibc 2.33 or newer; counts every arena
    return double(m.uordblks + m.hblkhd) / (1024.0 * 1024.0);
}

inline double slope(const std::vector<double>& x, const std::vector<double>& y) {
    double mx = 0, my = 0, num = 0, den = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
        mx += x[i] / double(x.size()), my += y[i] / double(y.size());
    for (std::size_t i = 0; i < x.size(); ++i)
        num += (x[i] - mx) * (y[i] - my), den += (x[i] - mx) * (x[i] - mx);
    return den > 0 ? num / den : 0;
}
