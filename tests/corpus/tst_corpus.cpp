// The models people deploy, made by Python the way users make them (tests/corpus/make_corpus.py, with
// every PyTorch at hand: 2.13 from the venv, Debian's 1.13): each runs through torchwb and matches what
// Python computed, or is named for what it is with a fix; and where the fix is a library to load, the
// run with it matches Python. A file saved by a newer PyTorch than this LibTorch may fail, but only with
// a fix; it never runs to a wrong answer.
#include "test_support.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>

class TestCorpus : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void modelRunsOrIsExplained_data();
    void modelRunsOrIsExplained();
    void everyKindIsCovered();

private:
    struct Result {
        int code = -1;
        QString out, err;
    };
    Result torchwb(const QString& dir, const QStringList& args) const {
        QProcess p;
        p.setWorkingDirectory(dir);
        p.start(m_exe, args);
        if (!p.waitForFinished(180000)) return {};
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
                QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
    }
    QString m_exe;
    QList<QJsonObject> m_manifests;
};

namespace {
// "2.13.0" → 213: enough to order PyTorch releases.
int release(const QString& version) {
    const QStringList parts = version.split('.');
    return parts.value(0).toInt() * 100 + parts.value(1).toInt();
}
} // namespace

void TestCorpus::initTestCase() {
    m_exe = qEnvironmentVariable("TORCHWB");
    if (m_exe.isEmpty()) QSKIP("TORCHWB is not set: run through ctest");
    const QDir root(qEnvironmentVariable("TWB_CORPUS_DIR"));
    for (const QString& version : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile f(root.filePath(version + "/manifest.json"));
        QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(f.fileName()));
        QJsonObject m = QJsonDocument::fromJson(f.readAll()).object();
        m["dir"] = root.filePath(version);
        m_manifests.push_back(m);
    }
}

void TestCorpus::modelRunsOrIsExplained_data() {
    QTest::addColumn<QString>("dir");
    QTest::addColumn<QString>("pytorch");
    QTest::addColumn<QJsonObject>("entry");
    if (m_manifests.isEmpty()) QSKIP("no corpus: tests/corpus/make.sh makes it (ctest runs it first)");
    for (const QJsonObject& m : m_manifests)
        for (const auto& e : m["entries"].toArray()) {
            const QString name = m["pytorch"].toString() + "/" + e.toObject()["name"].toString();
            QTest::newRow(qPrintable(name)) << m["dir"].toString() << m["pytorch"].toString() << e.toObject();
        }
}

void TestCorpus::modelRunsOrIsExplained() {
    QFETCH(QString, dir);
    QFETCH(QString, pytorch);
    QFETCH(QJsonObject, entry);
    if (entry.contains("skipped"))
        QSKIP(qPrintable("PyTorch " + pytorch + " cannot make it: " + entry["skipped"].toString()));
    const QString file = entry["file"].toString();
    const QString expect = entry["expect"].toString();
    const bool newer = release(pytorch) > release(QString::fromStdString(twb::buildInfo().libtorchVersion));

    const Result inspect = torchwb(dir, {"inspect", file, "--json"});
    const QJsonObject info = QJsonDocument::fromJson(inspect.out.toUtf8()).object();
    const QString kind = info["kind"].toString();
    const QString fix = info["fix"].toString();
    QVERIFY2(!kind.isEmpty(), qPrintable(inspect.out + inspect.err));
    if (expect.startsWith("explained:")) {
        const QString wanted = expect.mid(10);
        QVERIFY2(kind == wanted || (newer && !info["usable"].toBool()),
                 qPrintable(kind + ", wanted " + wanted));
        QVERIFY2(!fix.isEmpty(), qPrintable(inspect.out));
        return;
    }

    QStringList args{"run", file};
    for (const auto& i : entry["inputs"].toArray())
        args << "-i" << i.toString();
    for (const auto& a : entry["args"].toArray())
        args << a.toString();
    const QString tolerance = QString::number(entry["tolerance"].toDouble(1e-5));
    args << "--reference" << entry["reference"].toString() << "--atol" << tolerance << "--rtol" << tolerance;
    Result run = torchwb(dir, args);
    if (run.code != 0 && kind == "needs_operator_library") {
        // The fix offered is the library to load: with it, the model must run and match.
        const QJsonArray libraries = info["operator_libraries"].toArray();
        if (libraries.isEmpty()) {
            QVERIFY2(!fix.isEmpty() && run.err.contains("--load-library"), qPrintable(run.err));
            return; // nothing here to load: explained, as it must be
        }
        for (const auto& l : libraries)
            args << "--load-library" << l.toString();
        run = torchwb(dir, args);
        QVERIFY2(run.code == 0 && run.out.contains("allclose"),
                 qPrintable(args.join(' ') + "\n" + run.out + run.err));
        return;
    }
    if (run.code != 0 && !info["usable"].toBool()) {
        // Named for what it is, with a fix (a mobile file on a LibTorch without XNNPACK, say).
        QVERIFY2(!fix.isEmpty(), qPrintable(inspect.out));
        return;
    }
    if (run.code != 0 && newer) {
        // Saved by a newer PyTorch: it may fail here, with the cause and a fix, never silently.
        QVERIFY2(!run.out.contains(QRegularExpression("^reference ", QRegularExpression::MultilineOption)),
                 qPrintable("ran to a different answer: " + run.out));
        QVERIFY2(run.err.contains("fix"), qPrintable("no fix given: " + run.err + "\n" + inspect.out));
        return;
    }
    QVERIFY2(run.code == 0, qPrintable(args.join(' ') + "\n" + run.out + run.err));
    QVERIFY2(run.out.contains("allclose"), qPrintable(run.out));
}

// The corpus holds at least twenty kinds, and each PyTorch makes most of them.
void TestCorpus::everyKindIsCovered() {
    if (m_manifests.isEmpty()) QSKIP("no corpus");
    for (const QJsonObject& m : m_manifests) {
        int made = 0;
        const QJsonArray entries = m["entries"].toArray();
        for (const auto& e : entries)
            made += !e.toObject().contains("skipped");
        QVERIFY2(entries.size() >= 20, qPrintable(m["pytorch"].toString()));
        QVERIFY2(made >= 20, qPrintable(m["pytorch"].toString() + ": " + QString::number(made) + " made"));
    }
}

TWB_TEST_MAIN(TestCorpus)
#include "tst_corpus.moc"
