// A file never makes the workbench allocate more than its size justifies. Each hostile file here is
// opened by tests/tools/read_peak in a process of its own, which reports how far its peak resident set
// grew; the test holds that against the file's size.
// Under AddressSanitizer only the refusals are checked: its redzones and quarantine make memory figures
// meaningless.
#include "test_support.h"

#include <QProcess>
#include <QTemporaryDir>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace {

uint32_t crc32(const std::string& data) {
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char c : data) {
        crc ^= c;
        for (int k = 0; k < 8; ++k)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

void le(std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
        out += char((v >> (8 * i)) & 0xFF);
}

// A stored (uncompressed) zip, written by hand so that its central directory can lie.
struct ZipEntry {
    std::string name, data;
    int64_t claimedSize = -1; // what the central directory says; -1: the truth
    int64_t claimedCompressed = -1;
    int localOf = -1; // point at another entry's local header (overlapping records)
};

std::string zipFile(const std::vector<ZipEntry>& entries) {
    std::string out;
    std::vector<uint64_t> offsets;
    for (const auto& e : entries) {
        offsets.push_back(out.size());
        if (e.localOf >= 0) continue;
        le(out, 0x04034b50, 4);
        le(out, 20, 2);
        le(out, 0, 2);
        le(out, 0, 2);
        le(out, 0, 2);
        le(out, 0, 2);
        le(out, crc32(e.data), 4);
        le(out, e.data.size(), 4);
        le(out, e.data.size(), 4);
        le(out, e.name.size(), 2);
        le(out, 0, 2);
        out += e.name + e.data;
    }
    const uint64_t cdStart = out.size();
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        const auto& real = e.localOf >= 0 ? entries[std::size_t(e.localOf)] : e;
        le(out, 0x02014b50, 4);
        le(out, 20, 2);
        le(out, 20, 2);
        le(out, 0, 2);
        le(out, 0, 2);
        le(out, 0, 2);
        le(out, 0, 2);
        le(out, crc32(real.data), 4);
        le(out, uint64_t(e.claimedCompressed >= 0 ? e.claimedCompressed : int64_t(real.data.size())), 4);
        le(out, uint64_t(e.claimedSize >= 0 ? e.claimedSize : int64_t(real.data.size())), 4);
        le(out, e.name.size(), 2);
        le(out, 0, 2);
        le(out, 0, 2);
        le(out, 0, 2);
        le(out, 0, 2);
        le(out, 0, 4);
        le(out, e.localOf >= 0 ? offsets[std::size_t(e.localOf)] : offsets[i], 4);
        out += e.name;
    }
    const uint64_t cdSize = out.size() - cdStart;
    le(out, 0x06054b50, 4);
    le(out, 0, 2);
    le(out, 0, 2);
    le(out, entries.size(), 2);
    le(out, entries.size(), 2);
    le(out, cdSize, 4);
    le(out, cdStart, 4);
    le(out, 0, 2);
    return out;
}

// Pickle (protocol 2) of a list of `count` float tensors of `numel` elements each; tensor i views
// storage i % storages.
std::string tensorListPickle(int count, int storages, int64_t storageNumel, int numel) {
    auto binunicode = [](const std::string& s) {
        std::string o = "X";
        le(o, s.size(), 4);
        return o + s;
    };
    auto binint = [](int64_t v) {
        std::string o = "J";
        le(o, uint64_t(v), 4);
        return o;
    };
    std::string p("\x80\x02]q\x00(", 6);
    // memo 1: the rebuild function, 2: FloatStorage, 3: OrderedDict, 10+k: storage k
    p += "ctorch._utils\n_rebuild_tensor_v2\nq\x01";
    p += "ctorch\nFloatStorage\nq\x02";
    p += "ccollections\nOrderedDict\nq\x03";
    p += "0";
    p += "0";
    p += "0"; // POP the three: they are only memoized
    auto memoGet = [&](int k) {
        std::string o = "j";
        le(o, uint64_t(k), 4);
        return o;
    };
    auto memoPut = [&](int k) {
        std::string o = "r";
        le(o, uint64_t(k), 4);
        return o;
    };
    for (int i = 0; i < count; ++i) {
        const int s = i % storages;
        if (i > 0 && i % 1000 == 0) p += "e("; // APPENDS in batches of 1,000, as Python's pickler writes them
        p += memoGet(1) + "(";
        if (i < storages)
            p += "(" + binunicode("storage") + memoGet(2) + binunicode(std::to_string(s)) +
                 binunicode("cpu") + binint(storageNumel) + "tQ" + memoPut(10 + s);
        else
            p += memoGet(10 + s);
        p += binint(0) + binint(numel) + "\x85" + binint(1) + "\x85" + "\x89" + memoGet(3) + ")R" + "tR";
    }
    p += "e.";
    return p;
}

std::string safetensorsFile(const std::string& header, const std::string& data) {
    std::string out;
    le(out, header.size(), 8);
    return out + header + data;
}

void write(const QString& path, const std::string& bytes) {
    std::ofstream(path.toStdString(), std::ios::binary) << bytes;
}

struct Peak {
    bool ok = false;
    QString outcome;
    qint64 grewKb = -1, baselineKb = -1, fileKb = -1;
    bool sanitized = false; // AddressSanitizer's redzones and quarantine: memory figures mean nothing
    // Whether the peak grew by less than limitKb (always, where the figures mean nothing).
    bool grewLessThan(qint64 limitKb) const { return sanitized || (grewKb >= 0 && grewKb < limitKb); }
};

} // namespace

class TestBounded : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_tool;

    QString path(const char* name) const { return m_dir.filePath(QString::fromUtf8(name)); }

    Peak open(const char* what, const QString& file) {
        QProcess p;
        p.start(m_tool, {QString::fromUtf8(what), file});
        if (!p.waitForFinished(120000) || p.exitCode() != 0) {
            qWarning() << p.readAllStandardError();
            return {};
        }
        const QStringList lines = QString::fromUtf8(p.readAllStandardOutput()).split(QLatin1Char('\n'));
        Peak peak;
        peak.outcome = lines.value(0);
        peak.ok = peak.outcome.startsWith(QLatin1String("ok"));
        const QStringList f = lines.value(1).split(QLatin1Char(' '));
        peak.grewKb = f.value(1).toLongLong();
        peak.baselineKb = f.value(3).toLongLong();
        peak.fileKb = f.value(5).toLongLong();
        peak.sanitized = f.value(7) == QLatin1String("1");
        qInfo().noquote() << QFileInfo(file).fileName() << what << ":" << peak.outcome.left(160) << "| grew"
                          << peak.grewKb / 1024 << "MiB for a" << peak.fileKb / 1024 << "MiB file, over"
                          << peak.baselineKb / 1024 << "MiB at start";
        return peak;
    }

private slots:
    void initTestCase() {
        m_tool = qEnvironmentVariable("TWB_READ_PEAK");
        if (m_tool.isEmpty()) QSKIP("TWB_READ_PEAK is not set: run through ctest");
        QVERIFY(m_dir.isValid());
    }

    void safetensorsHeaderClaimingATerabyte() {
        std::string f;
        le(f, uint64_t(1) << 40, 8);
        f += "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}" + std::string(8, '\0');
        write(path("terabyte.safetensors"), f);
        const Peak p = open("tensors", path("terabyte.safetensors"));
        QVERIFY2(!p.ok && p.outcome.contains(QLatin1String("claims 1099511627776 bytes")),
                 qPrintable(p.outcome));
        QVERIFY(p.grewLessThan(16 * 1024));
    }

    // 1,000 entries over the same 1 MiB: 1 GiB of tensors from a 1 MiB file, unless overlaps are refused.
    void safetensorsTensorsSharingBytes() {
        std::string header = "{";
        for (int i = 0; i < 1000; ++i)
            header += (i ? "," : "") + std::string("\"t") + std::to_string(i) +
                      "\":{\"dtype\":\"F32\",\"shape\":[262144],\"data_offsets\":[0,1048576]}";
        header += "}";
        write(path("overlap.safetensors"), safetensorsFile(header, std::string(1 << 20, '\x01')));
        const Peak p = open("tensors", path("overlap.safetensors"));
        QVERIFY2(!p.ok && p.outcome.contains(QLatin1String("overlap")), qPrintable(p.outcome));
        QVERIFY(p.grewLessThan(2 * p.fileKb + 16 * 1024));
    }

    // One 4 MiB storage viewed by a million tensors: read once and shared, never copied per view.
    void pickleRepeatingAStorageAMillionTimes() {
        const std::string pkl = tensorListPickle(1000000, 1, 1 << 20, 1024);
        const std::string storage(std::size_t(4) << 20, '\0');
        write(path("million.pt"), zipFile({{"archive/data.pkl", pkl}, {"archive/data/0", storage}}));
        const Peak p = open("tensors", path("million.pt"));
        QVERIFY2(p.ok && p.outcome.contains(QLatin1String("1000000")), qPrintable(p.outcome));
        // A copy per view would be 4 TB. What is left is about 1 KB per tensor the pickle builds (26x the
        // file here), and the unpickler bounds the objects at 2^21.
        QVERIFY2(p.grewLessThan(32 * p.fileKb), qPrintable(QString::number(p.grewKb)));
    }

    // A record whose stated size is a lie: 4 GiB (the largest a zip can state without zip64) from 64 bytes.
    void zipEntryWhoseSizeIsALie() {
        ZipEntry data{"archive/data/0", std::string(64, '\0')};
        data.claimedSize = 0xFFFFFFF0;
        write(path("lying.pt"), zipFile({{"archive/data.pkl", tensorListPickle(1, 1, 0x3FFFFFFC, 4)}, data}));
        const Peak p = open("tensors", path("lying.pt"));
        QVERIFY2(!p.ok, qPrintable(p.outcome));
        QVERIFY(p.grewLessThan(16 * 1024));
    }

    // 500 storage records whose central-directory entries all point at one 2 MiB record: 1 GiB claimed
    // from a 2 MiB file, each record honest on its own.
    void zipRecordsSharingData() {
        std::vector<ZipEntry> entries;
        entries.push_back({"archive/data.pkl", tensorListPickle(500, 500, 1 << 19, 4)});
        entries.push_back({"archive/data/0", std::string(std::size_t(2) << 20, '\x02')});
        for (int i = 1; i < 500; ++i) {
            ZipEntry e{"archive/data/" + std::to_string(i), {}};
            e.localOf = 1;
            entries.push_back(e);
        }
        write(path("overlapping.pt"), zipFile(entries));
        const Peak p = open("tensors", path("overlapping.pt"));
        QVERIFY2(!p.ok, qPrintable(p.outcome));
        QVERIFY2(p.grewLessThan(2 * p.fileKb + 16 * 1024), qPrintable(QString::number(p.grewKb)));
        // The load doctor reads the same archive without being fooled either.
        const Peak d = open("diagnose", path("overlapping.pt"));
        QVERIFY(d.ok);
        QVERIFY(d.grewLessThan(2 * p.fileKb + 16 * 1024));
    }

    // An honest file costs about its size: a 64 MiB tensor file, read.
    void anHonestFileCostsItsSize() {
        const std::string pkl = tensorListPickle(1, 1, 1 << 24, 1 << 24);
        write(path("honest.pt"), zipFile({{"archive/data.pkl", pkl},
                                          {"archive/data/0", std::string(std::size_t(64) << 20, '\x03')}}));
        const Peak p = open("tensors", path("honest.pt"));
        QVERIFY2(p.ok, qPrintable(p.outcome));
        QVERIFY(p.sanitized || p.grewKb > p.fileKb / 2); // the measurement sees the data
        QVERIFY2(p.grewLessThan(2 * p.fileKb + 16 * 1024), qPrintable(QString::number(p.grewKb)));
    }
};

TWB_TEST_MAIN(TestBounded)
#include "tst_bounded.moc"
