// Internal: the executors of a load run (load.cpp). A pool of threads calls one prepared forward for the
// requests queued to it, one at a time or gathered into batches, and keeps each request's scheduled
// arrival, start and end. Torch types are only declared here.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace c10 {
struct IValue;
}

namespace twb::detail {

class PreparedForward;

using LoadClock = std::chrono::steady_clock;

struct LoadRequest {
    LoadClock::time_point scheduled;
    int64_t query = 0;
};

struct ServedRequest {
    LoadClock::time_point scheduled, start, end;
    int64_t query = 0;
    int batch = 1; // the requests served by the same call
};

// forward's arguments for a batch of `k` requests of `rows` rows each: each tensor's rows repeated k
// times along its first dimension, as a server stacks the requests it batches.
std::vector<c10::IValue> stackedRequests(const std::vector<c10::IValue>& inputs, int64_t rows, int64_t k);

// The executors: `concurrency` threads, each calling the prepared forward for every request it takes
// from the queue, under the configuration's modes and intra-op threads.
class LoadPool {
public:
    // Batching: up to maxBatch requests a call, gathered for up to `window` after the oldest's arrival.
    LoadPool(PreparedForward& f, int concurrency, int maxBatch = 1, LoadClock::duration window = {});
    ~LoadPool();
    LoadPool(const LoadPool&) = delete;
    LoadPool& operator=(const LoadPool&) = delete;

    void push(const LoadRequest& r);
    void pushMany(const std::vector<LoadRequest>& rs);
    // Waits until every request pushed so far is served; false when the deadline passed or `stop` said so
    // first (asked every 50 ms), or an executor failed.
    bool drain(LoadClock::time_point deadline, const std::function<bool()>& stop);
    std::size_t served();
    int64_t calls();
    // Stops the executors; requests still queued are returned, unserved.
    std::vector<LoadRequest> close();
    std::vector<ServedRequest> takeServed();
    std::string error();

private:
    void fail(const std::string& why);
    void serve();

    PreparedForward& m_f;
    const std::size_t m_maxBatch;
    const LoadClock::duration m_window;
    int64_t m_rows = 1;
    std::mutex m_lock;
    std::condition_variable m_wake, m_idle;
    std::deque<LoadRequest> m_queue;
    std::vector<ServedRequest> m_served;
    std::vector<std::thread> m_threads;
    int64_t m_calls = 0;
    int m_busy = 0;
    bool m_closed = false;
    std::string m_error;
};

} // namespace twb::detail
