// Generated inputs: zeros, ones, normal, uniform and integer ranges for a
// shape and dtype, reproducible from a seed on every platform.
#pragma once

#include "twb/value.h"

#include <cstdint>
#include <string>
#include <vector>

namespace twb {

struct GeneratorSpec {
    enum class Kind { Zeros, Ones, Normal, Uniform, RandInt, Arange, Full };
    Kind kind = Kind::Normal;
    std::vector<int64_t> shape;
    std::string dtype = "float32";
    uint64_t seed = 0;
    double a = 0; // normal: mean; uniform/randint: low; arange: start; full: the value
    double b = 1; // normal: std;  uniform/randint: high (exclusive for randint)

    // "normal:1x3x224x224", "uniform:8x16:float64:low=-1:high=1:seed=3",
    // "randint:4x10:int64:low=0:high=100", "arange:12:int64:start=5", "zeros:2x2:bool",
    // "full:2x3:float64:value=0.5". A bare number is a scalar of that value: "2.5" a float64, "3" an
    // int64, "true" and "false" a bool (for forward's float, int and bool arguments).
    static GeneratorSpec parse(const std::string& text);
    std::string toString() const;
};

Value generate(const GeneratorSpec& spec);

} // namespace twb
