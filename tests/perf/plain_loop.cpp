// The baseline for torchwb's overhead: the loop a user writes by hand against LibTorch, and nothing
// else. Loads the model, feeds it one random tensor of the given shape, and times each call.
//   plain_loop MODEL.pt 1x3x224x224 ITERATIONS WARMUP THREADS [method]
// "method" looks forward up once, as torchwb's harness does, instead of module.forward() per call.
// Prints one line: "median_ns N".
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 6 && argc != 7) {
        std::fprintf(stderr, "usage: %s MODEL.pt SHAPE ITERATIONS WARMUP THREADS\n", argv[0]);
        return 2;
    }
    std::vector<int64_t> shape;
    std::istringstream dims(argv[2]);
    for (std::string d; std::getline(dims, d, 'x');)
        shape.push_back(std::stoll(d));
    const int iterations = std::stoi(argv[3]), warmup = std::stoi(argv[4]);
    at::set_num_threads(std::stoi(argv[5]));
    torch::jit::Module module = torch::jit::load(argv[1]);
    module.eval();
    c10::InferenceMode guard;
    const std::vector<c10::IValue> inputs{torch::randn(shape)};
    const bool cached = argc == 7 && std::string(argv[6]) == "method";
    torch::jit::Method forward = module.get_method("forward");
    auto once = [&] { return cached ? forward(inputs) : module.forward(inputs); };
    for (int i = 0; i < warmup; ++i)
        once();
    std::vector<double> samples;
    samples.reserve(std::size_t(iterations));
    for (int i = 0; i < iterations; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        once();
        const auto t1 = std::chrono::steady_clock::now();
        samples.push_back(double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    }
    std::nth_element(samples.begin(), samples.begin() + long(samples.size() / 2), samples.end());
    std::printf("median_ns %.1f\n", samples[samples.size() / 2]);
    return 0;
}
