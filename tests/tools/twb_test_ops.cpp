// A tiny operator library, as a project ships one: TORCH_LIBRARY registers twbtest::scale when the
// library is loaded (torch.ops.load_library in Python, --load-library in torchwb). tests/data/custom_op.pt
// calls it; the arithmetic matches the Python definition make_fixtures.py scripted it with.
#include <ATen/ATen.h>
#include <torch/library.h>

namespace {

at::Tensor scale(const at::Tensor& x, double s) {
    return x * s + 1;
}

} // namespace

TORCH_LIBRARY(twbtest, m) {
    m.def("scale(Tensor x, float s) -> Tensor", &scale);
}
