// Shared by the window's tests: settings and data in a temporary folder of the test's own, and the
// steps most tests begin with (open the sample, run two quick configurations).
#pragma once

#include "test_support.h"

#include "config_panel.h"
#include "main_window.h"

#include "twb/config.h"

#include <QElapsedTimer>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QVector>

namespace uitest {

// QSettings and XDG data (the autosaved session, recent files) under `dir`, never the user's.
inline void isolateSettings(const QTemporaryDir& dir) {
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, dir.path());
    qputenv("XDG_DATA_HOME", dir.path().toUtf8());
}

inline QVector<twb::RunConfig> quick() {
    return {twb::RunConfig::parse("name=off,jit=off,iters=30,warmup=3"),
            twb::RunConfig::parse("name=optimize,jit=optimize,iters=30,warmup=3")};
}

// Opens the bundled sample with its input; false unless the inputs bind.
inline bool openSample(twbui::MainWindow& w) {
    QSignalSpy ready(&w, &twbui::MainWindow::inputsReady);
    w.setPendingInputs({QString::fromStdString(TWB_DATA("../../resources/sample/sample_input.npy"))});
    w.openFile(QString::fromStdString(TWB_DATA("../../resources/sample/sample_cnn.pt")));
    return ready.wait(20000) && ready.last().at(0).toBool();
}

// Opens a file and waits until the model panel shows it.
inline bool showFile(twbui::MainWindow& w, const std::string& file) {
    QSignalSpy shown(&w, &twbui::MainWindow::modelShown);
    w.openFile(QString::fromStdString(file));
    return shown.wait(20000);
}

// Opens the sample and measures the quick configurations; false when either fails.
inline bool runQuick(twbui::MainWindow& w) {
    if (!openSample(w)) return false;
    w.configPanel()->setConfigs(quick());
    QSignalSpy finished(&w, &twbui::MainWindow::runsFinished);
    w.runAll();
    return finished.wait(60000);
}

// Saves the session to `session` and exports the report of the right-hand panel `tab` (0 Results,
// 1 Profile, 2 Sweep, 5 Load) to `report`, waiting for both; false when either was not written.
inline bool saveSessionAndExport(twbui::MainWindow& w, int tab, const QString& session,
                                 const QString& report) {
    QSignalSpy saved(&w, &twbui::MainWindow::sessionSaved);
    QSignalSpy exported(&w, &twbui::MainWindow::reportExported);
    w.saveSession(session);
    w.showRightTab(tab);
    w.exportReport(report);
    auto savedOurs = [&] {
        for (const auto& s : saved)
            if (s.at(0).toString() == session) return s.at(1).toBool() ? 1 : -1;
        return 0;
    };
    QElapsedTimer clock;
    clock.start();
    while ((savedOurs() == 0 || exported.isEmpty()) && clock.elapsed() < 20000)
        QTest::qWait(20);
    return savedOurs() == 1 && !exported.isEmpty() && exported.last().at(1).toBool();
}

} // namespace uitest
