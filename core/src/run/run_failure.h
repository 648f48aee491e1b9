// Internal: how a configuration's failure is written into its record (plan.cpp, and the quick first
// call): a worker that died or hung, an answer this client cannot read, an error the model raised, and
// the fix for the failures a user can move (a memory limit, a precision with no kernel).
#pragma once

#include "worker_client.h"

#include "twb/bench.h"
#include "twb/worker.h"

#include <exception>
#include <string>

namespace twb::detail {

// A worker that failed (a signal, an exit, a hang, bytes that are not the protocol); a cancel is no failure:
// the record keeps what was measured.
void recordFailure(RunRecord& r, const WorkerFailure& f);
// A frame whose header or payload this client cannot read: the worker is not one it understands.
void recordMalformed(RunRecord& r, const std::string& phase, const std::exception& e);
// An "error" answer: the model failed (a bad input, an operator's error), the worker is fine.
bool answeredError(const Frame& f, RunRecord& r);
// The fix for a model's allocation that failed, or an operator with no kernel for a dtype.
void explainFailure(RunRecord& r, const WorkerOptions& o);

} // namespace twb::detail
