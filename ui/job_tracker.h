// Long work off the GUI thread, the way hotspot's JobTracker does it: one worker thread per
// tracker, one generation counter per kind of job, results of superseded jobs dropped, and
// delivery through queued calls to a QPointer-guarded receiver. A job sees a cancelled()
// predicate that turns true as soon as a newer job of its kind starts.
#pragma once

#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>

#include <array>
#include <atomic>
#include <functional>
#include <memory>

namespace twbui {

enum class JobKind {
    Model,
    Bind,
    Weights,
    Run,
    Compare,
    Export,
    Session,
    ReadReport,
    ReadSession,
    Target,
    Graph,
    Layout,
    Count
};

class JobTracker {
public:
    struct State {
        std::array<std::atomic<quint64>, std::size_t(JobKind::Count)> generation{};
    };

    explicit JobTracker(const QString& threadName)
        : m_state(std::make_shared<State>()) {
        m_context = new QObject;
        m_context->moveToThread(&m_thread);
        QObject::connect(&m_thread, &QThread::finished, m_context, &QObject::deleteLater);
        m_thread.setObjectName(threadName);
        m_thread.start();
    }
    ~JobTracker() { stop(); }
    JobTracker(const JobTracker&) = delete;
    JobTracker& operator=(const JobTracker&) = delete;

    // Waits for the running job; queued ones are dropped. Call before the receiver goes away.
    void stop() {
        for (auto& g : m_state->generation)
            ++g;
        m_thread.quit();
        m_thread.wait();
    }

    // Makes every job of `kind` started so far stale: their results are dropped.
    quint64 supersede(JobKind kind) { return ++m_state->generation[index(kind)]; }

    // What a job gets: whether it has been superseded, and a way to hand results to the receiver.
    template <typename Receiver> class Context {
    public:
        bool cancelled() const { return m_state->generation[m_kind].load() != m_generation; }
        // Runs fn(receiver) on the receiver's thread, unless the job is stale by then or the receiver gone.
        template <typename Fn> void deliver(Fn fn) const {
            Receiver* target = m_receiver.data();
            if (!target) return;
            QMetaObject::invokeMethod(
                target,
                [state = m_state, kind = m_kind, gen = m_generation, receiver = m_receiver, fn] {
                    if (receiver && state->generation[kind].load() == gen) fn(receiver.data());
                },
                Qt::QueuedConnection);
        }
        // Delivers even when superseded: for bookkeeping every job must finish (a run's end).
        template <typename Fn> void deliverAlways(Fn fn) const {
            Receiver* target = m_receiver.data();
            if (!target) return;
            QMetaObject::invokeMethod(
                target,
                [receiver = m_receiver, fn] {
                    if (receiver) fn(receiver.data());
                },
                Qt::QueuedConnection);
        }

    private:
        friend class JobTracker;
        std::shared_ptr<State> m_state;
        std::size_t m_kind = 0;
        quint64 m_generation = 0;
        QPointer<Receiver> m_receiver;
    };

    // Starts a new generation of `kind` and queues job(context) on this tracker's thread; jobs run
    // one after another in the order they were started.
    template <typename Receiver, typename Job> quint64 start(JobKind kind, Receiver* receiver, Job job) {
        Context<Receiver> ctx;
        ctx.m_state = m_state;
        ctx.m_kind = index(kind);
        ctx.m_generation = supersede(kind);
        ctx.m_receiver = receiver;
        QMetaObject::invokeMethod(
            m_context,
            [ctx, job]() mutable {
                if (!ctx.cancelled()) job(ctx);
            },
            Qt::QueuedConnection);
        return ctx.m_generation;
    }

    // Queues job(context) under the current generation of `kind`, superseding nothing: for work that
    // belongs to the job already running (loading weights into the model opened last).
    template <typename Receiver, typename Job> void join(JobKind kind, Receiver* receiver, Job job) {
        Context<Receiver> ctx;
        ctx.m_state = m_state;
        ctx.m_kind = index(kind);
        ctx.m_generation = m_state->generation[ctx.m_kind].load();
        ctx.m_receiver = receiver;
        QMetaObject::invokeMethod(m_context, [ctx, job]() mutable { job(ctx); }, Qt::QueuedConnection);
    }

private:
    static std::size_t index(JobKind k) { return std::size_t(k); }
    std::shared_ptr<State> m_state;
    QThread m_thread;
    QObject* m_context = nullptr;
};

} // namespace twbui
