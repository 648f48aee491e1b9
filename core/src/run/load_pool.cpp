// The executors of a load run: a queue, and threads that take requests from it and call the prepared
// forward.
#include "load_pool.h"

#include "harness.h"
#include "torch_bridge.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <exception>

namespace twb::detail {

std::vector<c10::IValue> stackedRequests(const std::vector<c10::IValue>& inputs, int64_t rows, int64_t k) {
    if (k == 1) return inputs;
    std::vector<c10::IValue> out;
    for (const auto& v : inputs)
        out.push_back(resizedAlongFirst(v, rows * k));
    return out;
}

LoadPool::LoadPool(PreparedForward& f, int concurrency, int maxBatch, LoadClock::duration window)
    : m_f(f)
    , m_maxBatch(std::size_t(std::max(1, maxBatch)))
    , m_window(window) {
    // The rows a request has (measureBatch refused inputs that do not share a first dimension).
    std::string why;
    if (m_maxBatch > 1) m_rows = std::max<int64_t>(1, sharedFirstDimension(m_f.inputs(), why));
    const int intra = at::get_num_threads();
    for (int i = 0; i < concurrency; ++i)
        m_threads.emplace_back([this, intra] {
            try { // nothing may leave a thread: the worker would end in std::terminate
                at::set_num_threads(intra);
                m_f.inMode([this] { serve(); });
            } catch (const std::exception& e) {
                fail(e.what());
            } catch (...) {
                fail("an exception that is not a std::exception");
            }
        });
}

LoadPool::~LoadPool() {
    close();
}

void LoadPool::push(const LoadRequest& r) {
    bool everyone = false;
    {
        std::lock_guard<std::mutex> hold(m_lock);
        m_queue.push_back(r);
        // Executors gathering a batch wait for it to fill: they need waking when it has. Idle ones woke
        // when the queue stopped being empty.
        everyone = m_maxBatch > 1 && (m_queue.size() == 1 || m_queue.size() >= m_maxBatch);
    }
    if (everyone)
        m_wake.notify_all();
    else if (m_maxBatch == 1)
        m_wake.notify_one();
}

void LoadPool::pushMany(const std::vector<LoadRequest>& rs) {
    {
        std::lock_guard<std::mutex> hold(m_lock);
        m_queue.insert(m_queue.end(), rs.begin(), rs.end());
    }
    m_wake.notify_all();
}

bool LoadPool::drain(LoadClock::time_point deadline, const std::function<bool()>& stop) {
    std::unique_lock<std::mutex> hold(m_lock);
    for (;;) {
        if (m_queue.empty() && m_busy == 0) return true;
        if (!m_error.empty() || LoadClock::now() >= deadline || stop()) return false;
        m_idle.wait_for(hold, std::chrono::milliseconds(50));
    }
}

std::size_t LoadPool::served() {
    std::lock_guard<std::mutex> hold(m_lock);
    return m_served.size();
}

int64_t LoadPool::calls() {
    std::lock_guard<std::mutex> hold(m_lock);
    return m_calls;
}

std::vector<LoadRequest> LoadPool::close() {
    std::vector<LoadRequest> left;
    {
        std::lock_guard<std::mutex> hold(m_lock);
        if (m_closed) return left;
        m_closed = true;
        left.assign(m_queue.begin(), m_queue.end());
        m_queue.clear();
    }
    m_wake.notify_all();
    for (auto& t : m_threads)
        t.join();
    return left;
}

std::vector<ServedRequest> LoadPool::takeServed() {
    std::lock_guard<std::mutex> hold(m_lock);
    return std::move(m_served);
}

std::string LoadPool::error() {
    std::lock_guard<std::mutex> hold(m_lock);
    return m_error;
}

void LoadPool::fail(const std::string& why) {
    std::lock_guard<std::mutex> hold(m_lock);
    if (m_error.empty()) m_error = why;
    m_idle.notify_all();
}

void LoadPool::serve() {
    std::unique_lock<std::mutex> hold(m_lock);
    for (;;) {
        m_wake.wait(hold, [&] { return m_closed || !m_queue.empty(); });
        if (m_closed) return;
        if (m_maxBatch > 1 && m_queue.size() < m_maxBatch) {
            const auto oldest = m_queue.front().scheduled;
            m_wake.wait_until(hold, oldest + m_window,
                              [&] { return m_closed || m_queue.size() >= m_maxBatch; });
            if (m_closed) return;
            // Another executor took the oldest: the window now runs from the next one's arrival.
            if (m_queue.empty() || (m_queue.front().scheduled != oldest && m_queue.size() < m_maxBatch))
                continue;
        }
        const std::size_t k = std::min(m_maxBatch, m_queue.size());
        std::vector<LoadRequest> batch(m_queue.begin(), m_queue.begin() + std::ptrdiff_t(k));
        m_queue.erase(m_queue.begin(), m_queue.begin() + std::ptrdiff_t(k));
        ++m_busy;
        ++m_calls;
        hold.unlock();
        const auto start = LoadClock::now();
        std::string failed;
        try {
            if (k == 1)
                m_f.callConcurrently();
            else
                m_f.callConcurrentlyWith(stackedRequests(m_f.inputs(), m_rows, int64_t(k)));
        } catch (const std::exception& e) {
            failed = e.what();
        } catch (...) {
            failed = "an exception that is not a std::exception";
        }
        const auto end = LoadClock::now();
        hold.lock();
        --m_busy;
        if (!failed.empty() && m_error.empty()) m_error = failed;
        for (const LoadRequest& r : batch)
            m_served.push_back({r.scheduled, start, end, r.query, int(k)});
        if (m_queue.empty() && m_busy == 0) m_idle.notify_all();
    }
}

} // namespace twb::detail
