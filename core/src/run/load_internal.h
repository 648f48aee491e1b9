// Internal: latency under load as it runs inside a worker process (load.cpp, load_rules.cpp). runLoad
// (worker_load.cpp) starts a worker and asks it for this with a "serve" request.
#pragma once

#include "twb/load.h"

#include <string>

namespace twb::detail {

LoadResult loadInProcess(const Model& model, const std::vector<InputSpec>& inputs, const ReadOptions& read,
                         const LoadOptions& options, const LoadCallbacks& callbacks,
                         const std::atomic<bool>* stop);

// A rate of queries a second, and a time in nanoseconds as milliseconds, as verdicts and errors write them.
std::string qpsText(double qps);
std::string msText(double ns);

// load_rules.cpp: the knee and the verdict, from the curve and the peak search.
void finishLoad(LoadResult& result);

} // namespace twb::detail
