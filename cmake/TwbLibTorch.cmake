# Finds LibTorch in one of three places, chosen with TWB_LIBTORCH:
#   wheel         the PyTorch wheel in the project's venv (TWB_PYTHON, default .venv/bin/python),
#                 located with torch.utils.cmake_prefix_path
#   distribution  the distribution's libtorch-dev (Debian: /usr/lib/<triplet>/cmake/Torch)
#   custom        an unpacked official LibTorch named with CMAKE_PREFIX_PATH or Torch_DIR
# Sets TWB_LIBTORCH_SOURCE (wheel|distribution|custom), TWB_LIBTORCH_LOCATION and Torch's own variables.

set(TWB_LIBTORCH "wheel" CACHE STRING "Where LibTorch comes from: wheel, distribution or custom")
set_property(CACHE TWB_LIBTORCH PROPERTY STRINGS wheel distribution custom)
set(TWB_PYTHON "${PROJECT_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH
    "The Python whose torch wheel provides LibTorch when TWB_LIBTORCH=wheel")

set(_twb_three_ways
  "LibTorch can come from one of three places:\n"
  "  1. the PyTorch wheel in the project's venv (the default): run ./packaging/install-deps.sh, "
  "then 'cmake --preset release' (TWB_LIBTORCH=wheel, TWB_PYTHON=<venv>/bin/python);\n"
  "  2. the distribution's package: apt-get install libtorch-dev, then 'cmake --preset distro' "
  "(TWB_LIBTORCH=distribution);\n"
  "  3. an unpacked official LibTorch: 'cmake --preset custom -DCMAKE_PREFIX_PATH=/path/to/libtorch' "
  "(TWB_LIBTORCH=custom).")

if(TWB_LIBTORCH STREQUAL "wheel")
  if(NOT EXISTS "${TWB_PYTHON}")
    message(FATAL_ERROR "TWB_LIBTORCH=wheel, but there is no Python at ${TWB_PYTHON}.\n" ${_twb_three_ways})
  endif()
  execute_process(
    COMMAND "${TWB_PYTHON}" -c "import torch, torch.utils; print(torch.utils.cmake_prefix_path)"
    OUTPUT_VARIABLE _twb_wheel_prefix OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_VARIABLE _twb_wheel_error RESULT_VARIABLE _twb_wheel_rc)
  if(NOT _twb_wheel_rc EQUAL 0)
    message(FATAL_ERROR "TWB_LIBTORCH=wheel, but ${TWB_PYTHON} cannot import torch:\n${_twb_wheel_error}\n"
            ${_twb_three_ways})
  endif()
  # Torch's config finds its libraries and Caffe2's config through the default search paths, where a
  # distribution's libtorch may also be: put the wheel's prefix first so that nothing is mixed.
  get_filename_component(_twb_wheel_root "${_twb_wheel_prefix}/../.." ABSOLUTE)
  list(PREPEND CMAKE_PREFIX_PATH "${_twb_wheel_root}")
  set(Caffe2_DIR "${_twb_wheel_prefix}/Caffe2" CACHE PATH "" FORCE)
  find_package(Torch CONFIG QUIET PATHS "${_twb_wheel_prefix}" NO_DEFAULT_PATH)
elseif(TWB_LIBTORCH STREQUAL "distribution")
  # Only the system's own locations: neither CMAKE_PREFIX_PATH nor a venv may stand in for it.
  find_package(Torch CONFIG QUIET
    NO_PACKAGE_ROOT_PATH NO_CMAKE_PATH NO_CMAKE_ENVIRONMENT_PATH NO_SYSTEM_ENVIRONMENT_PATH
    NO_CMAKE_PACKAGE_REGISTRY)
elseif(TWB_LIBTORCH STREQUAL "custom")
  find_package(Torch CONFIG QUIET)
else()
  message(FATAL_ERROR "TWB_LIBTORCH is '${TWB_LIBTORCH}'; it must be wheel, distribution or custom.\n"
          ${_twb_three_ways})
endif()

if(NOT Torch_FOUND)
  message(FATAL_ERROR "LibTorch was not found (TWB_LIBTORCH=${TWB_LIBTORCH}).\n" ${_twb_three_ways})
endif()

set(TWB_LIBTORCH_SOURCE "${TWB_LIBTORCH}")
get_filename_component(TWB_LIBTORCH_LOCATION "${Torch_DIR}/../../.." ABSOLUTE)
if(TWB_LIBTORCH STREQUAL "distribution" AND TWB_LIBTORCH_LOCATION MATCHES "site-packages")
  message(FATAL_ERROR "TWB_LIBTORCH=distribution found a wheel's LibTorch at ${Torch_DIR}.\n" ${_twb_three_ways})
endif()
# One LibTorch, not two: its libraries must lie under the prefix its config was found in.
get_target_property(_twb_torch_cpu torch_cpu IMPORTED_LOCATION_RELEASE)
if(NOT _twb_torch_cpu)
  get_target_property(_twb_torch_cpu torch_cpu IMPORTED_LOCATION_NONE)
endif()
get_filename_component(TWB_LIBTORCH_LIBDIR "${_twb_torch_cpu}" DIRECTORY) # where its libraries lie
foreach(_twb_lib IN ITEMS "${TORCH_LIBRARY}" "${_twb_torch_cpu}")
  get_filename_component(_twb_lib_real "${_twb_lib}" REALPATH)
  get_filename_component(_twb_prefix_real "${TWB_LIBTORCH_LOCATION}" REALPATH)
  string(FIND "${_twb_lib_real}" "${_twb_prefix_real}/" _twb_at)
  if(_twb_lib AND NOT _twb_at EQUAL 0)
    message(FATAL_ERROR "LibTorch's config at ${Torch_DIR} picked up ${_twb_lib}, which belongs to another "
            "LibTorch. Remove ${CMAKE_BINARY_DIR}/CMakeCache.txt and configure again.")
  endif()
endforeach()

set(TWB_LIBTORCH_VERSION "${Torch_VERSION}") # from TorchConfigVersion.cmake

# The C++ standard LibTorch's headers need, read from their own guard: 17 up to 2.13, 20 from 2.14.
# Only the sources that include LibTorch (core, the perf benchmarks) use it; public headers stay C++17.
set(TWB_TORCH_CXX_STANDARD 17)
find_file(_twb_aten_h ATen/ATen.h PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH NO_CACHE)
if(_twb_aten_h)
  file(STRINGS "${_twb_aten_h}" _twb_needs_cxx20 REGEX "C\\+\\+20 or later")
  if(_twb_needs_cxx20)
    set(TWB_TORCH_CXX_STANDARD 20)
  endif()
endif()
message(STATUS "LibTorch's headers need C++${TWB_TORCH_CXX_STANDARD}")

if(TARGET torch_cuda)
  set(TWB_WITH_CUDA ON)
  set(TWB_CUDA_REASON "compiled in: this LibTorch was built with CUDA")
else()
  set(TWB_WITH_CUDA OFF)
  string(CONCAT TWB_CUDA_REASON "off: this LibTorch (${TWB_LIBTORCH_SOURCE}) is a CPU-only build; "
         "a CUDA build (the torch 2.14.1 wheel with preset 'cuda', or an official CUDA LibTorch) turns it on")
endif()

set_package_properties(Torch PROPERTIES TYPE REQUIRED
  DESCRIPTION "LibTorch ${TWB_LIBTORCH_VERSION} from the ${TWB_LIBTORCH_SOURCE} (${TWB_LIBTORCH_LOCATION})"
  PURPOSE "loads and runs TorchScript models")
add_feature_info(CUDA TWB_WITH_CUDA "CUDA devices: ${TWB_CUDA_REASON}")
message(STATUS "LibTorch ${TWB_LIBTORCH_VERSION}: ${TWB_LIBTORCH_SOURCE}, ${TWB_LIBTORCH_LOCATION}; CUDA ${TWB_CUDA_REASON}")
