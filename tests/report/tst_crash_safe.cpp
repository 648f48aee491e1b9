// Crash-safe saves: a writer killed with SIGKILL at random moments, 200 times, always leaves the old
// complete report or the new complete one, never a partial file; a write that cannot happen says why and
// leaves the old file as it was.
#include "test_support.h"

#include "twb/error.h"
#include "twb/report.h"
#include "twb/session.h"
#include "twb/tensor_io.h"

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <random>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

class TestCrashSafe : public QObject {
    Q_OBJECT
private slots:
    void killedWritersLeaveCompleteFiles();
    void unwritableFolderLeavesTheOldFile();
    void fullDiskLeavesTheOldFile();
};

// The writer's next line, waiting up to a minute for it.
static QString nextLine(QProcess& p) {
    while (!p.canReadLine())
        if (!p.waitForReadyRead(60000)) return {};
    return QString::fromUtf8(p.readLine()).trimmed();
}

void TestCrashSafe::killedWritersLeaveCompleteFiles() {
    const QString writer = qEnvironmentVariable("TWB_REPORT_WRITER");
    if (writer.isEmpty()) QSKIP("TWB_REPORT_WRITER is not set: run through ctest");
    QTemporaryDir dir;
    const std::string path = dir.filePath("report.json").toStdString();
    QProcess p;
    p.start(writer, {QString::fromStdString(path)});
    QVERIFY(p.waitForStarted(10000));
    const QString written = nextLine(p); // "written MS": one whole report is there, written in MS ms
    QVERIFY2(written.startsWith("written "), qPrintable(written + p.readAllStandardError()));
    const int writeMs = std::max(1, written.section(QLatin1Char(' '), 1).toInt());
    std::mt19937 rng(7);
    int checked = 0, midWrite = 0;
    for (int round = 0; round < 200; ++round) {
        p.write("next\n"); // a child process that writes the two reports in turn until it is killed
        const QString child = nextLine(p);
        QVERIFY2(child.startsWith("child "), qPrintable(child + p.readAllStandardError()));
        const pid_t pid = pid_t(child.section(QLatin1Char(' '), 1).toLongLong());
        QVERIFY(pid > 0);
        // Anywhere within its first two writes, whatever this build's speed.
        QThread::msleep(unsigned(std::uniform_int_distribution<int>(0, 2 * writeMs)(rng)));
        QCOMPARE(::kill(pid, SIGKILL), 0);
        QCOMPARE(nextLine(p), QString("gone"));
        // Temporary files may be left behind; the report itself is always whole.
        const twb::Report r = twb::readReport(path);
        QCOMPARE(r.runs.size(), std::size_t(1));
        const std::string label = r.runs.front().label;
        QVERIFY2(label == "version A" || label == "version B", label.c_str());
        QCOMPARE(r.runs.front().samplesNs.size(), std::size_t(label == "version A" ? 150000 : 200000));
        ++checked;
        const QStringList left = QDir(dir.path()).entryList({"report.json.tmp-*"});
        midWrite += left.size() > 0;
        for (const QString& f : left)
            QFile::remove(dir.filePath(f)); // so that each round counts its own
    }
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 0);
    qInfo("%d kills checked, %d of them in the middle of a write (a temporary file left)", checked, midWrite);
    QCOMPARE(checked, 200);
    QVERIFY(midWrite > 0); // the kills did land inside writes
}

void TestCrashSafe::unwritableFolderLeavesTheOldFile() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("session.twbsession").toStdString();
    twb::Session s;
    s.model = "old.pt";
    twb::writeSession(path, s);
    // A folder that is gone: the write fails, naming the file and the cause.
    try {
        twb::writeReport(dir.filePath("missing/report.json").toStdString(), twb::Report());
        QFAIL("wrote into a folder that does not exist");
    } catch (const twb::Error& e) {
        QVERIFY2(std::string(e.what()).find("missing/report.json: cannot be written") != std::string::npos,
                 e.what());
        QVERIFY2(std::string(e.what()).find("No such file or directory") != std::string::npos, e.what());
    }
    if (::geteuid() == 0) QSKIP("running as root: a read-only folder does not stop root");
    QVERIFY(QFile::setPermissions(dir.path(), QFileDevice::ReadOwner | QFileDevice::ExeOwner));
    s.model = "new.pt";
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::writeSession(path, s));
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::writeTensorFile(dir.filePath("out.npy").toStdString(),
                                                              twb::readTensorFile(TWB_DATA("mlp_x.npy"))));
    QFile::setPermissions(dir.path(),
                          QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    QCOMPARE(twb::readSession(path).model, std::string("old.pt"));
}

// A full disk, as the kernel reports it to write(): a file size limit makes writes past 64 KiB fail
// (EFBIG, where a full disk gives ENOSPC), for this process only and whoever runs the test.
void TestCrashSafe::fullDiskLeavesTheOldFile() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("report.json").toStdString();
    twb::Report old;
    old.runs.push_back(twb::RunRecord());
    old.runs.back().label = "old";
    twb::writeReport(path, old);
    twb::Report big;
    big.runs.push_back(twb::RunRecord());
    big.runs.back().label = "new";
    big.runs.back().samplesNs.assign(100000, 1234.5);

    rlimit saved{};
    QCOMPARE(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    const auto previous = std::signal(SIGXFSZ, SIG_IGN); // the write fails instead of killing the process
    rlimit small = saved;
    small.rlim_cur = 64 * 1024;
    QCOMPARE(::setrlimit(RLIMIT_FSIZE, &small), 0);
    std::string error;
    try {
        twb::writeReport(path, big);
    } catch (const twb::Error& e) {
        error = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, previous);

    QVERIFY2(!error.empty(), "a write past the limit succeeded");
    QVERIFY2(error.find(path + ": writing failed") == 0, error.c_str());
    QVERIFY2(error.find("File too large") != std::string::npos, error.c_str());
    QVERIFY2(error.find("the old file is unchanged") != std::string::npos, error.c_str());
    QCOMPARE(twb::readReport(path).runs.front().label, std::string("old"));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files),
             QStringList{QStringLiteral("report.json")}); // nothing left
}

TWB_TEST_MAIN(TestCrashSafe)
#include "tst_crash_safe.moc"
