// Targets: the same worker protocol through another build here, a launcher command, and OpenSSH. The
// SSH tests start a real sshd on 127.0.0.1 with host and user keys, its configuration and the client's in
// a temporary folder, and point torchwb's ssh at that configuration with TWB_SSH_COMMAND, as
// GIT_SSH_COMMAND does for git; the system's configuration is never touched.
#include "test_support.h"

#include "twb/error.h"
#include "twb/hashing.h"
#include "twb/input_spec.h"
#include "twb/model.h"
#include "twb/plan.h"
#include "twb/target.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

class TestTargets : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void targetsParse_data();
    void targetsParse();
    void badTargetsRefusedInOneSentence_data();
    void badTargetsRefusedInOneSentence();
    void anotherBuildAndALauncherRunTheModel();
    void targetCacheKeepsTheRecentWithinItsBound();
    void sshHandshakeShowsTheTarget();
    void modelTravelsOnceOverSsh();
    void onePlanOnSeveralTargetsIntoOneReport();
    void linkDroppedMidRunEndsThatConfiguration();
    void configurationsOnTwoBuildsInterleaveInOnePlan();
    void sshFailuresSayWhyAndWhatToDo_data();
    void sshFailuresSayWhyAndWhatToDo();
    void largeFileTravelsInPiecesWithProgress();
    void cancelOverTheLinkEndsTheRemoteWorker();
    void divergenceAcrossTwoTargetsNamesWhereTheyPart();
    void loadRunsOnATarget();

private:
    struct Result {
        int code = -1;
        QString out, err;
    };
    Result torchwb(const QStringList& args) const {
        QProcess p;
        p.start(m_exe, args);
        if (!p.waitForFinished(120000)) return {};
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
                QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
    }
    bool startSshd();
    QList<int> remoteWorkers() const;
    QString m_exe;
    QTemporaryDir m_tmp;
    QProcess m_sshd;
    bool m_ssh = false;
    QString m_whyNoSsh;
};

namespace {
bool run(const QString& program, const QStringList& args) {
    QProcess p;
    p.start(program, args);
    return p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}
// A port of 127.0.0.1 nothing listens on now.
int freePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    const int port = ::bind(fd, reinterpret_cast<sockaddr*>(&a), n) == 0 &&
                             ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) == 0
                         ? ntohs(a.sin_port)
                         : 0;
    ::close(fd);
    return port;
}
bool write(const QString& path, const QByteArray& text) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(text) == text.size();
}
// The parent of a process, from /proc; 0 when it is gone.
int parentOf(int pid) {
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly)) return 0;
    const QByteArray stat = f.readAll();
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    return fields.size() > 1 ? fields[1].toInt() : 0;
}
// CPU time a process has used, in clock ticks (user and system).
long cpuTicks(int pid) {
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly)) return 0;
    const QByteArray stat = f.readAll();
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    return fields.size() > 12 ? fields[11].toLong() + fields[12].toLong() : 0;
}
} // namespace

// The `torchwb worker` processes the test's sshd started (the target's side of a link).
QList<int> TestTargets::remoteWorkers() const {
    QList<int> out;
    const int sshd = int(m_sshd.processId());
    for (const QString& entry : QDir("/proc").entryList(QDir::Dirs)) {
        bool number = false;
        const int pid = entry.toInt(&number);
        if (!number) continue;
        QFile cmdline("/proc/" + entry + "/cmdline");
        if (!cmdline.open(QIODevice::ReadOnly) || !cmdline.readAll().endsWith(QByteArray("\0worker\0", 8)))
            continue;
        for (int p = parentOf(pid); p > 1; p = parentOf(p))
            if (p == sshd) {
                out << pid;
                break;
            }
    }
    return out;
}

// sshd on a free port of 127.0.0.1, with keys and configuration of the test's own. Root's sshd needs its
// privilege-separation folder, which the package's service would make at boot.
bool TestTargets::startSshd() {
    const QString sshd = "/usr/sbin/sshd";
    if (!QFileInfo(sshd).isExecutable()) {
        m_whyNoSsh = "no /usr/sbin/sshd (Debian's openssh-server)";
        return false;
    }
    QDir().mkpath("/run/sshd");
    const QString d = m_tmp.path();
    if (!run("ssh-keygen", {"-q", "-t", "ed25519", "-N", "", "-f", d + "/host_key"}) ||
        !run("ssh-keygen", {"-q", "-t", "ed25519", "-N", "", "-f", d + "/user_key"}) ||
        !run("ssh-keygen", {"-q", "-t", "ed25519", "-N", "", "-f", d + "/stranger_key"})) {
        m_whyNoSsh = "ssh-keygen failed";
        return false;
    }
    QFile::copy(d + "/user_key.pub", d + "/authorized_keys");
    const int port = freePort();
    write(d + "/sshd_config", QStringLiteral("ListenAddress 127.0.0.1\nPort %1\nHostKey %2/host_key\n"
                                             "AuthorizedKeysFile %2/authorized_keys\nPidFile %2/sshd.pid\n"
                                             "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                                             "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
                                             "SetEnv TWB_FILE_CACHE=%2/target_cache\n")
                                  .arg(port)
                                  .arg(d)
                                  .toUtf8());
    QFile hostPub(d + "/host_key.pub");
    hostPub.open(QIODevice::ReadOnly);
    write(d + "/known_hosts", QStringLiteral("[127.0.0.1]:%1 ").arg(port).toUtf8() + hostPub.readAll());
    const QString user = qEnvironmentVariable("USER", "root");
    QString client;
    for (const auto& [alias, key] :
         {std::pair<QString, QString>{"twbtest", "user_key"}, {"stranger", "stranger_key"}})
        client += QStringLiteral("Host %1\n  HostName 127.0.0.1\n  Port %2\n  User %3\n  IdentityFile %4/%5\n"
                                 "  IdentitiesOnly yes\n  UserKnownHostsFile %4/known_hosts\n"
                                 "  StrictHostKeyChecking yes\n  ConnectTimeout 10\n")
                      .arg(alias)
                      .arg(port)
                      .arg(user, d, key);
    write(d + "/ssh_config", client.toUtf8());
    m_sshd.start(sshd, {"-D", "-e", "-f", d + "/sshd_config"});
    if (!m_sshd.waitForStarted(10000)) {
        m_whyNoSsh = "sshd did not start";
        return false;
    }
    // Ready when a batch-mode login answers.
    for (int i = 0; i < 50; ++i) {
        if (run("ssh", {"-F", d + "/ssh_config", "-o", "BatchMode=yes", "twbtest", "true"})) return true;
        if (m_sshd.state() != QProcess::Running) break;
        QTest::qWait(100);
    }
    m_whyNoSsh = "sshd did not accept a login: " + QString::fromUtf8(m_sshd.readAllStandardError());
    return false;
}

void TestTargets::initTestCase() {
    m_exe = qEnvironmentVariable("TORCHWB");
    if (m_exe.isEmpty()) QSKIP("TORCHWB is not set: run through ctest");
    m_exe = QFileInfo(m_exe).absoluteFilePath();
    m_ssh = startSshd();
    // torchwb's ssh reads the test's configuration, as GIT_SSH_COMMAND points git's.
    qputenv("TWB_SSH_COMMAND", ("ssh -F " + m_tmp.path() + "/ssh_config").toUtf8());
}

void TestTargets::cleanupTestCase() {
    if (m_sshd.state() == QProcess::Running) {
        m_sshd.terminate();
        m_sshd.waitForFinished(5000);
    }
}

void TestTargets::targetsParse_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("remote");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("executable");
    QTest::newRow("local") << "local" << "local" << false << "" << 0 << "";
    QTest::newRow("ssh host") << "ssh://gpu-box" << "gpu-box" << true << "gpu-box" << 0 << "";
    QTest::newRow("ssh all parts") << "ssh://me@gpu-box.lan:2222/opt/twb/bin/torchwb" << "me@gpu-box.lan:2222"
                                   << true << "gpu-box.lan" << 2222 << "/opt/twb/bin/torchwb";
    QTest::newRow("ssh IPv6") << "ssh://[::1]:22/usr/bin/torchwb" << "::1:22" << true << "::1" << 22
                              << "/usr/bin/torchwb";
    QTest::newRow("launcher") << "cmd:srun -p gpu --gres=gpu:1 torchwb worker"
                              << "cmd:srun -p gpu --gres=gpu:1 torchwb worker" << true << "" << 0 << "";
}

void TestTargets::targetsParse() {
    QFETCH(QString, text);
    QFETCH(QString, name);
    QFETCH(bool, remote);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(QString, executable);
    const twb::Target t = twb::Target::parse(text.toStdString());
    QCOMPARE(QString::fromStdString(t.name()), name);
    QCOMPARE(t.remote(), remote);
    QCOMPARE(QString::fromStdString(t.host), host);
    QCOMPARE(t.port, port);
    QCOMPARE(QString::fromStdString(t.executable), executable);
    if (t.kind == twb::Target::Kind::Ssh) {
        qunsetenv("TWB_SSH_COMMAND");
        const auto argv = t.workerCommand();
        qputenv("TWB_SSH_COMMAND", ("ssh -F " + m_tmp.path() + "/ssh_config").toUtf8());
        QCOMPARE(argv.front(), std::string("ssh"));
        QVERIFY(std::find(argv.begin(), argv.end(), "BatchMode=yes") !=
                argv.end());                     // never a password prompt
        QCOMPARE(argv[argv.size() - 2], t.host); // after "--": never an option
        QCOMPARE(argv[argv.size() - 3], std::string("--"));
        QCOMPARE(argv.back(),
                 executable.isEmpty() ? std::string("torchwb worker") : "'" + t.executable + "' worker");
    }
}

void TestTargets::badTargetsRefusedInOneSentence_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("says");
    QTest::newRow("unknown scheme") << "gpu-box" << "is none of local, local:/path/to/torchwb, ssh://";
    QTest::newRow("no such build") << "local:/nowhere/torchwb"
                                   << "/nowhere/torchwb is not an executable file";
    QTest::newRow("a host that is an option") << "ssh://-oProxyCommand=x" << "is not a host name";
    QTest::newRow("a port that is not one") << "ssh://host:22x" << "the port '22x' is not a number";
    QTest::newRow("an empty command") << "cmd: " << "no command given";
}

void TestTargets::badTargetsRefusedInOneSentence() {
    QFETCH(QString, text);
    QFETCH(QString, says);
    try {
        twb::Target::parse(text.toStdString());
        QFAIL("accepted");
    } catch (const twb::Error& e) {
        QVERIFY2(QString(e.what()).contains(says), e.what());
    }
    const Result r = torchwb({"targets", "check", text});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(says), qPrintable(r.err));
}

// Another build of torchwb on this machine, and a launcher command that ends in a worker, run the model
// and give Python's outputs; a launcher's files are not assumed to be ours, so the model travels.
void TestTargets::anotherBuildAndALauncherRunTheModel() {
    const QString model = QString::fromStdString(TWB_DATA("mlp_traced.pt"));
    const QString x = QString::fromStdString(TWB_DATA("mlp_x.npy"));
    const QString expected = QString::fromStdString(TWB_DATA("mlp_expected.npy"));
    const QString cache = m_tmp.filePath("launcher_cache");
    for (const QString& target :
         {"local:" + m_exe, "cmd:env TWB_FILE_CACHE=" + cache + " " + m_exe + " worker"}) {
        const Result r = torchwb({"run", model, "-i", x, "--reference", expected, "--target", target});
        QVERIFY2(r.code == 0 && r.out.contains("allclose"), qPrintable(target + "\n" + r.out + r.err));
        const Result check = torchwb({"targets", "check", target});
        QVERIFY2(check.code == 0, qPrintable(check.err));
        QVERIFY2(
            check.out.contains("protocol  " + QString::number(twb::kWorkerProtocolVersion)) &&
                check.out.contains("LibTorch " + QString::fromStdString(twb::buildInfo().libtorchVersion)),
            qPrintable(check.out));
    }
    // A device is the target's to judge: CUDA asked of a target without it fails there, saying why.
    if (!twb::buildInfo().cudaAvailable) {
        const Result cuda =
            torchwb({"run", model, "-i", x, "--device", "cuda", "--target", "local:" + m_exe});
        QCOMPARE(cuda.code, 1);
        QVERIFY2(cuda.err.contains("CUDA"), qPrintable(cuda.err));
    }
    // The launcher's copy of the model, kept by its SHA-256.
    const QString sha = QString::fromStdString(twb::fileSha256(model.toStdString()));
    QVERIFY2(QFileInfo::exists(cache + "/" + sha + "/mlp_traced.pt"), qPrintable(cache));
}

// The target's cache holds at most TWB_FILE_CACHE_BYTES: a second model that does not fit beside the first
// makes the least recently used one leave.
void TestTargets::targetCacheKeepsTheRecentWithinItsBound() {
    const QString cache = m_tmp.filePath("bounded_cache");
    const QString mlp = QString::fromStdString(TWB_DATA("mlp_traced.pt"));
    const QString cnn = QString::fromStdString(TWB_DATA("cnn_scripted.pt"));
    const qint64 bound = std::max(QFileInfo(mlp).size(), QFileInfo(cnn).size()) + 16;
    const QString target = QStringLiteral("cmd:env TWB_FILE_CACHE=%1 TWB_FILE_CACHE_BYTES=%2 %3 worker")
                               .arg(cache)
                               .arg(bound)
                               .arg(m_exe);
    const Result first =
        torchwb({"run", mlp, "-i", QString::fromStdString(TWB_DATA("mlp_x.npy")), "--target", target});
    QVERIFY2(first.code == 0, qPrintable(first.err));
    const QString mlpCopy =
        cache + "/" + QString::fromStdString(twb::fileSha256(mlp.toStdString())) + "/mlp_traced.pt";
    QVERIFY(QFileInfo::exists(mlpCopy));
    const Result second =
        torchwb({"run", cnn, "-i", QString::fromStdString(TWB_DATA("cnn_x.npy")), "--target", target});
    QVERIFY2(second.code == 0, qPrintable(second.err));
    QVERIFY(QFileInfo::exists(cache + "/" + QString::fromStdString(twb::fileSha256(cnn.toStdString())) +
                              "/cnn_scripted.pt"));
    QVERIFY2(!QFileInfo::exists(mlpCopy), "the least recently used file stayed beyond the bound");
}

void TestTargets::sshHandshakeShowsTheTarget() {
    if (!m_ssh) QSKIP(qPrintable("no test sshd: " + m_whyNoSsh));
    const Result r = torchwb({"targets", "check", "ssh://twbtest" + m_exe});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("target    twbtest\n"), qPrintable(r.out));
    QVERIFY2(r.out.contains("protocol  " + QString::number(twb::kWorkerProtocolVersion)), qPrintable(r.out));
    QVERIFY2(r.out.contains("CPU       ") && r.out.contains("CUDA      "), qPrintable(r.out));
}

// The model goes over the link into the target's cache once: a second run finds it there by its SHA-256
// and sends nothing (the cached file is the same file, not written again).
void TestTargets::modelTravelsOnceOverSsh() {
    if (!m_ssh) QSKIP(qPrintable("no test sshd: " + m_whyNoSsh));
    const QString model = m_tmp.filePath("to_send.pt");
    QFile::copy(QString::fromStdString(TWB_DATA("cnn_scripted.pt")), model);
    const QString x = QString::fromStdString(TWB_DATA("cnn_x.npy"));
    const QString expected = QString::fromStdString(TWB_DATA("cnn_expected.npy"));
    const QString target = "ssh://twbtest" + m_exe;
    const Result first = torchwb({"run", model, "-i", x, "--reference", expected, "--target", target});
    QVERIFY2(first.code == 0 && first.out.contains("allclose"), qPrintable(first.out + first.err));
    const QString sha = QString::fromStdString(twb::fileSha256(model.toStdString()));
    const QString cached = m_tmp.filePath("target_cache/" + sha + "/to_send.pt");
    QVERIFY2(QFileInfo::exists(cached), qPrintable(cached));
    QCOMPARE(QFileInfo(cached).size(), QFileInfo(model).size());
    struct stat before{};
    QCOMPARE(::stat(cached.toUtf8().constData(), &before), 0);

    const Result bench = torchwb({"bench", model, "-i", x, "--quick", "--iters", "20", "--target", target});
    QVERIFY2(bench.code == 0, qPrintable(bench.out + bench.err));
    struct stat after{};
    QCOMPARE(::stat(cached.toUtf8().constData(), &after), 0);
    QCOMPARE(after.st_ino, before.st_ino); // found, not written again
}

// bench with several targets: one report, a section per target with the machine its worker introduced,
// runs labelled by target, each configuration elsewhere compared with the first target's; a target that
// cannot be reached is a section saying why, and the others go on.
void TestTargets::onePlanOnSeveralTargetsIntoOneReport() {
    const QString json = m_tmp.filePath("targets_report.json");
    QStringList args{"bench",
                     QString::fromStdString(TWB_DATA("mlp_traced.pt")),
                     "-i",
                     QString::fromStdString(TWB_DATA("mlp_x.npy")),
                     "--quick",
                     "--iters",
                     "30",
                     "--config",
                     "jit=off",
                     "--config",
                     "jit=freeze",
                     "--json",
                     json,
                     "--target",
                     "local",
                     "--target",
                     "local:" + m_exe,
                     "--target",
                     "ssh://nosuchhost.invalid"};
    const Result r = torchwb(args);
    QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
    QVERIFY2(r.out.contains("target  local: LibTorch ") &&
                 r.out.contains("target  nosuchhost.invalid: not reached: "),
             qPrintable(r.out));
    QFile f(json);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(f.readAll()).object();
    const QJsonArray targets = report["targets"].toArray();
    QCOMPARE(targets.size(), 3);
    QVERIFY(targets[0].toObject()["reached"].toBool());
    QCOMPARE(targets[0].toObject()["environment"].toObject()["libtorch"].toString(),
             QString::fromStdString(twb::buildInfo().libtorchVersion));
    QVERIFY(!targets[2].toObject()["reached"].toBool());
    QVERIFY2(targets[2].toObject()["error"].toString().contains("unreachable"),
             qPrintable(targets[2].toObject()["error"].toString()));
    const QJsonArray runs = report["runs"].toArray();
    QCOMPARE(runs.size(), 4); // two configurations on each reached target
    QCOMPARE(runs[0].toObject()["target"].toString(), QString("local"));
    QCOMPARE(runs[3].toObject()["target"].toString(), "local:" + m_exe);
    QVERIFY(runs[3].toObject()["label"].toString().endsWith(" @ local:" + m_exe));
    // Within each target, freeze against off; across targets, each configuration against local's.
    int across = 0;
    for (const auto& c : report["comparisons"].toArray()) {
        const QJsonObject o = c.toObject();
        const int a = o["baseline"].toInt(), b = o["candidate"].toInt();
        if (runs[a].toObject()["target"] != runs[b].toObject()["target"]) {
            ++across;
            QCOMPARE(runs[a].toObject()["config"].toObject()["jit"],
                     runs[b].toObject()["config"].toObject()["jit"]);
            QVERIFY(o["outputs"].toObject()["allclose"].toBool());
        }
    }
    QCOMPARE(across, 2);
}

// The link dropping mid-run (the target's sshd session killed) ends that configuration with the cause,
// and torchwb itself goes on to report it.
void TestTargets::linkDroppedMidRunEndsThatConfiguration() {
    if (!m_ssh) QSKIP(qPrintable("no test sshd: " + m_whyNoSsh));
    QProcess bench;
    bench.start(m_exe, {"bench", QString::fromStdString(TWB_DATA("cnn_scripted.pt")), "-i",
                        QString::fromStdString(TWB_DATA("cnn_x.npy")), "--processes", "1", "--rounds", "20",
                        "--seconds", "20", "--target", "ssh://twbtest" + m_exe});
    QVERIFY(bench.waitForStarted());
    // Once the worker is measuring, the sshd serving this connection is killed.
    const QString sshd = QString::number(m_sshd.processId());
    bool killed = false;
    for (int i = 0; i < 100 && !killed; ++i) {
        QTest::qWait(200);
        QProcess children;
        children.start("pgrep", {"-P", sshd});
        children.waitForFinished();
        const QStringList pids =
            QString::fromUtf8(children.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts);
        if (!pids.isEmpty() && i >= 25) { // about five seconds in: loaded, and some rounds measured
            for (const QString& pid : pids)
                run("kill", {"-KILL", pid});
            killed = true;
        }
    }
    QVERIFY(killed);
    QVERIFY(bench.waitForFinished(60000));
    const QString out =
        QString::fromUtf8(bench.readAllStandardOutput()) + QString::fromUtf8(bench.readAllStandardError());
    QVERIFY2(out.contains("the connection to twbtest was lost during"), qPrintable(out));
    QVERIFY2(out.contains(QRegularExpression("after \\d+ of \\d+ rounds \\(those are kept\\)")) ||
                 out.contains("during loading") || out.contains("during warm-up"),
             qPrintable(out));
    QVERIFY2(bench.exitStatus() == QProcess::NormalExit, qPrintable(out)); // torchwb itself did not crash
}

// A target per configuration: this build and another (here the same one, started as another) are rows
// of one plan, measured in workers of their own with their rounds interleaved and paired, as two
// configurations on one build are; shared workers are not possible across targets, and not asked of them.
void TestTargets::configurationsOnTwoBuildsInterleaveInOnePlan() {
    const QString json = m_tmp.filePath("interleaved.json");
    const Result r =
        torchwb({"bench", QString::fromStdString(TWB_DATA("mlp_traced.pt")), "-i",
                 QString::fromStdString(TWB_DATA("mlp_x.npy")), "--processes", "2", "--rounds", "2",
                 "--config", "jit=off,seconds=0.2", "--config", "jit=off,seconds=0.2,target=local:" + m_exe,
                 "--workers", "shared", "--json", json});
    QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
    QVERIFY2(r.out.contains("cpu · jit off @ local:" + m_exe), qPrintable(r.out));
    QFile f(json);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(f.readAll()).object();
    const QJsonArray runs = report["runs"].toArray();
    QCOMPARE(runs.size(), 2);
    QCOMPARE(runs[0].toObject()["target"].toString(), QString());
    QCOMPARE(runs[1].toObject()["target"].toString(), "local:" + m_exe);
    QCOMPARE(runs[1].toObject()["config"].toObject()["target"].toString(), "local:" + m_exe);
    for (const auto& run : runs) {
        QVERIFY(run.toObject()["ok"].toBool());
        QCOMPARE(run.toObject()["rounds"].toArray().size(), 4); // 2 processes × 2 rounds, each
    }
    const QJsonArray comparisons = report["comparisons"].toArray();
    QCOMPARE(comparisons.size(), 1);
    QVERIFY(comparisons[0].toObject()["outputs"].toObject()["allclose"].toBool());
    QVERIFY(!comparisons[0].toObject()["verdict"].toString().isEmpty());
    // A target that is not one is refused in its own words before anything runs.
    const Result bad = torchwb({"bench", QString::fromStdString(TWB_DATA("mlp_traced.pt")), "-i",
                                QString::fromStdString(TWB_DATA("mlp_x.npy")), "--quick", "--config",
                                "jit=off,target=local:/nowhere/torchwb"});
    QCOMPARE(bad.code, 1); // refused before anything runs
    QVERIFY2(bad.err.contains("/nowhere/torchwb is not an executable file"), qPrintable(bad.err));
}

void TestTargets::sshFailuresSayWhyAndWhatToDo_data() {
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("says");
    QTest::addColumn<QString>("fix");
    QTest::newRow("a key the target does not know") << "ssh://stranger" << "authentication to stranger failed"
                                                    << "ssh-add";
    QTest::newRow("no torchwb where it is said to be")
        << "ssh://twbtest/nowhere/torchwb"
        << "torchwb is not on twbtest's PATH" << "install torchwb on twbtest";
    QTest::newRow("a host that is not there")
        << "ssh://nosuchhost.invalid" << "nosuchhost.invalid is unreachable"
        << "ssh -v nosuchhost.invalid";
    // An older torchwb there: a worker that speaks another protocol (tests/tools/fake_worker).
    const QString fake = qEnvironmentVariable("TWB_FAKE_WORKER");
    if (!fake.isEmpty()) {
        const QString old = m_tmp.filePath("old-torchwb");
        write(old, ("#!/bin/sh\nexec " + fake + " hello version\n").toUtf8());
        QFile::setPermissions(old, QFile::permissions(old) | QFileDevice::ExeOwner);
        QTest::newRow("another protocol there")
            << "ssh://twbtest" + old
            << "the target twbtest's torchwb speaks protocol 999; this torchwb needs " +
                   QString::number(twb::kWorkerProtocolVersion)
            << "on twbtest (packaging/install-deps.sh build";
    }
}

void TestTargets::sshFailuresSayWhyAndWhatToDo() {
    if (!m_ssh) QSKIP(qPrintable("no test sshd: " + m_whyNoSsh));
    QFETCH(QString, target);
    QFETCH(QString, says);
    QFETCH(QString, fix);
    const Result check = torchwb({"targets", "check", target});
    QCOMPARE(check.code, 1);
    QVERIFY2(check.err.contains(says) && check.err.contains("fix: ") && check.err.contains(fix),
             qPrintable(check.err));
    // A run there fails the same way, with the same words.
    const Result r = torchwb({"run", QString::fromStdString(TWB_DATA("mlp_traced.pt")), "-i",
                              QString::fromStdString(TWB_DATA("mlp_x.npy")), "--target", target});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(says) && r.err.contains(fix), qPrintable(r.err));
}

// A large model goes in pieces: each shows as progress ("sending NAME to TARGET: N of M MB"), and the
// target keeps the whole file, checked by its SHA-256. Cancelled while sending, the run ends cancelled.
void TestTargets::largeFileTravelsInPiecesWithProgress() {
    const QString big = m_tmp.filePath("big_model.pt");
    QFile::copy(QString::fromStdString(TWB_DATA("mlp_traced.pt")), big);
    // 20 MB more in the archive's extra records (what torch.jit.save's _extra_files writes), which loading
    // leaves alone.
    QProcess py;
    py.start("python3",
             {"-c",
              "import os, sys, zipfile\n"
              "z = zipfile.ZipFile(sys.argv[1], 'a')\n"
              "z.writestr(z.namelist()[0].split('/')[0] + '/extra/padding', os.urandom(20 << 20))\n",
              big});
    if (!py.waitForFinished(60000) || py.exitCode() != 0) QSKIP("no python3 to pad a model with");
    QVERIFY(QFileInfo(big).size() > 20 << 20);

    twb::Model model = twb::Model::load(big.toStdString());
    const std::vector<twb::InputSpec> specs{twb::InputSpec::parse(TWB_DATA("mlp_x.npy"))};
    const twb::InputBinding binding = model.bindInputs(twb::readInputs(specs));
    const QString cache = m_tmp.filePath("pieces_cache");
    twb::Plan plan;
    plan.configs = {twb::RunConfig::parse("jit=off,iters=5,warmup=1")};
    plan.measurement.quick = true;
    plan.measurement.worker =
        twb::Target::parse(("cmd:env TWB_FILE_CACHE=" + cache + " " + m_exe + " worker").toStdString())
            .workerOptions();

    // Cancelled as the first piece goes: nothing measured, and the run says so.
    twb::PlanCallbacks stopAtOnce;
    stopAtOnce.progress = [](int, const twb::Progress& p) { return p.phase.rfind("sending", 0) != 0; };
    const twb::Report cancelled = twb::runPlan(model, specs, binding, plan, stopAtOnce);
    for (const auto& r : cancelled.runs)
        QVERIFY2(!r.ok && r.cancelled, r.error.c_str());
    const QString sha = QString::fromStdString(twb::fileSha256(big.toStdString()));
    const QString kept = cache + "/" + sha + "/big_model.pt";
    QVERIFY2(!QFileInfo::exists(kept), "a file cut short was kept");

    QStringList phases;
    twb::PlanCallbacks callbacks;
    callbacks.progress = [&](int, const twb::Progress& p) {
        if (!phases.contains(QString::fromStdString(p.phase))) phases << QString::fromStdString(p.phase);
        return true;
    };
    const twb::Report report = twb::runPlan(model, specs, binding, plan, callbacks);
    QVERIFY2(report.runs.size() == 1 && report.runs[0].ok,
             qPrintable(QString::fromStdString(report.runs[0].error)));
    const QStringList sending = phases.filter(
        QRegularExpression("^sending big_model\\.pt to cmd:.*: \\d+ of " +
                           QString::number((QFileInfo(big).size() + (1 << 19)) >> 20) + " MB$"));
    QVERIFY2(sending.size() >= 3, qPrintable(phases.join('\n'))); // 0, 8 and 16 of 20 MB
    QCOMPARE(QString::fromStdString(twb::fileSha256(kept.toStdString())), sha);
    QVERIFY(!QFileInfo::exists(kept + ".part"));
}

// Cancel over the link ends the target's worker, even mid-measurement, where it reads nothing until its
// round ends: Ctrl+C stops torchwb, which reports what was measured; and torchwb killed outright leaves no
// worker running on the target either.
void TestTargets::cancelOverTheLinkEndsTheRemoteWorker() {
    if (!m_ssh) QSKIP(qPrintable("no test sshd: " + m_whyNoSsh));
    const QStringList args{"bench",       QString::fromStdString(TWB_DATA("cnn_scripted.pt")),
                           "-i",          QString::fromStdString(TWB_DATA("cnn_x.npy")),
                           "--processes", "1",
                           "--rounds",    "60",
                           "--seconds",   "60",
                           "--target",    "ssh://twbtest" + m_exe};
    // The target's worker, once it has measured a round or more (four seconds of CPU; rounds of one second).
    const auto measuring = [this] {
        const QList<int> w = remoteWorkers();
        return w.size() == 1 && cpuTicks(w.front()) > 400;
    };
    for (const int sig : {SIGINT, SIGKILL}) {
        QVERIFY2(remoteWorkers().isEmpty(), "a worker of an earlier test is still running on the target");
        QProcess bench;
        bench.start(m_exe, args);
        QVERIFY(bench.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(measuring(), 60000);
        ::kill(pid_t(bench.processId()), sig);
        QVERIFY(bench.waitForFinished(30000));
        if (sig == SIGINT) {
            const QString out =
                QString::fromUtf8(bench.readAllStandardOutput() + bench.readAllStandardError());
            QVERIFY2(bench.exitStatus() == QProcess::NormalExit && bench.exitCode() == 130, qPrintable(out));
            QVERIFY2(out.contains("(cancelled)") && out.contains("samples in"), qPrintable(out));
        }
        QTRY_VERIFY_WITH_TIMEOUT(remoteWorkers().isEmpty(), 15000);
    }
}

// torchwb diverge with A here and B on another target: each side's tensors stream back, and the verdict is
// the one a single process gives. Over ssh too, where the model travels first.
void TestTargets::divergenceAcrossTwoTargetsNamesWhereTheyPart() {
    const QString model = QString::fromStdString(TWB_DATA("overflow.pt"));
    const QString x = QString::fromStdString(TWB_DATA("overflow_x.npy"));
    QStringList targets{"local:" + m_exe};
    if (m_ssh) targets << "ssh://twbtest" + m_exe;
    for (const QString& target : targets) {
        const QString json = m_tmp.filePath("divergence_across.json");
        const Result r = torchwb({"diverge", model, "-i", x, "-c", "dtype=float32", "-c", "dtype=float16",
                                  "--target", "local", "--target", target, "--json", json});
        if (r.out.contains("not implemented for")) QSKIP("float16 does not run on this LibTorch's CPU");
        QVERIFY2(r.code == 3, qPrintable(target + ": " + r.out + r.err)); // 3: they part
        QVERIFY2(r.out.contains("First divergence: aten::mul at "), qPrintable(r.out));
        QFile f(json);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject report = QJsonDocument::fromJson(f.readAll()).object();
        const QJsonArray nodes = report["nodes"].toArray();
        const int first = report["first_divergent"].toInt(-1);
        QVERIFY(first >= 0 && first < nodes.size());
        QCOMPARE(nodes[first].toObject()["dtype_b"].toString(), QString("float16"));
        QVERIFY(nodes[first].toObject()["inf"].toArray()[1].toInt() > 0);
        QVERIFY(!report["graph_a"].toObject()["nodes"].toArray().isEmpty());
    }
    if (!m_ssh) QSKIP(qPrintable("over ssh not tried: no test sshd: " + m_whyNoSsh));
}

// torchwb load as a user runs it, its worker on another build and over ssh: the curve comes back, with the
// target's own service time; a bad parameter is refused in one line before anything starts.
void TestTargets::loadRunsOnATarget() {
    const QString model = QString::fromStdString(TWB_DATA("fixed_work.pt"));
    QStringList targets{"local:" + m_exe};
    if (m_ssh) targets << "ssh://twbtest" + m_exe;
    for (const QString& target : targets) {
        const QString json = m_tmp.filePath("load.json");
        // The offered load a share of the capacity the target measures for itself.
        const Result r =
            torchwb({"load", model, "-g", "normal:160x160:seed=1", "--threads", "1", "--utilisation", "0.25",
                     "--seconds", "1", "-q", "--target", target, "--json", json});
        QVERIFY2(r.code == 0, qPrintable(target + ": " + r.out + r.err));
        QVERIFY2(r.out.contains("QPS (25% of the capacity measured): p99 ") && r.out.contains("queued"),
                 qPrintable(r.out));
        QFile f(json);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject load = QJsonDocument::fromJson(f.readAll()).object()["load"].toObject();
        QVERIFY(load["ok"].toBool());
        QVERIFY(load["service_mean_ns"].toDouble() > 0);
        QCOMPARE(load["options"].toObject()["utilisation"].toDouble(), 0.25);
        QCOMPARE(load["options"].toObject()["target"].toString(), target); // where it was served
        QVERIFY2(r.out.contains(", on " + target), qPrintable(r.out));
        const QJsonObject point = load["curve"].toArray().at(0).toObject();
        QVERIFY(std::abs(point["offered_qps"].toDouble() - 0.25 * load["capacity_qps"].toDouble()) < 0.01);
        // Poisson arrivals: over half of those expected, whatever the target's speed.
        QVERIFY(point["queries"].toInt() > 0 &&
                point["queries"].toInt() >=
                    0.5 * point["offered_qps"].toDouble() * point["seconds"].toDouble());
        QVERIFY(point["latency_ns"].toObject()["p99"].toDouble() >=
                point["compute_ns"].toObject()["p50"].toDouble());
        // An input file travels to the target as the model does: the worker reads its own copy. Requests
        // batched in fours there, their inputs stacked along the first dimension.
        const Result file =
            torchwb({"load", QString::fromStdString(TWB_DATA("cnn_scripted.pt")), "-i",
                     QString::fromStdString(TWB_DATA("cnn_x.npy")), "--qps", "50", "--seconds", "0.5",
                     "--max-batch", "4", "--batch-window", "20000", "-q", "--target", target});
        QVERIFY2(file.code == 0, qPrintable(target + ": " + file.out + file.err));
        QVERIFY2(file.out.contains("in batches of 4 (a batch takes ") &&
                     file.out.contains("requests on average (at most 4)"),
                 qPrintable(file.out));
        if (target.startsWith("ssh://")) {
            const QString sent =
                m_tmp.filePath("target_cache/" +
                               QString::fromStdString(twb::fileSha256(TWB_DATA("cnn_x.npy"))) + "/cnn_x.npy");
            QVERIFY2(QFileInfo::exists(sent), qPrintable(sent));
        }
    }
    const Result bad = torchwb({"load", model, "--find-peak", "--target", "local:" + m_exe});
    QCOMPARE(bad.code, 1);
    QCOMPARE(bad.err.trimmed().count('\n'), 0);
    QVERIFY2(bad.err.contains("needs the p99 bound"), qPrintable(bad.err));
    const Result turns = torchwb({"load", model, "--searches", "3", "--p99", "10"});
    QCOMPARE(turns.code, 1);
    QVERIFY2(turns.err.contains("add --find-peak, or leave --searches at 1."), qPrintable(turns.err));
    if (!m_ssh) QSKIP(qPrintable("over ssh not tried: no test sshd: " + m_whyNoSsh));
}

TWB_TEST_MAIN(TestTargets)
#include "tst_targets.moc"
