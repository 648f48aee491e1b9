// Does the window leak? Opens the model, measures it and closes the window, again and again, offscreen,
// and prints the resident set size after every tenth round and the slope after the first ten. Usage:
//   gui_soak MODEL.pt INPUT ROUNDS
#include "config_panel.h"
#include "main_window.h"
#include "rss.h"

#include <QApplication>
#include <QEventLoop>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s MODEL.pt INPUT ROUNDS\n", argv[0]);
        return 2;
    }
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QTemporaryDir home; // settings, recent files and autosaves of its own
    qputenv("XDG_CONFIG_HOME", home.filePath("config").toUtf8());
    qputenv("XDG_DATA_HOME", home.filePath("data").toUtf8());
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("torch-workbench-soak"));
    const QString model = QString::fromLocal8Bit(argv[1]), input = QString::fromLocal8Bit(argv[2]);
    const int rounds = std::atoi(argv[3]);
    std::vector<double> xs, ys, heap;
    for (int i = 1; i <= rounds; ++i) {
        auto* w = new twbui::MainWindow;
        w->show();
        w->configPanel()->setConfigs({twb::RunConfig::parse("iters=20,warmup=3")});
        QEventLoop loop;
        bool finished = false;
        QObject::connect(w, &twbui::MainWindow::inputsReady, w, [w](bool ok) {
            if (ok) w->runAll();
        });
        QObject::connect(w, &twbui::MainWindow::runsFinished, &loop, [&] {
            finished = true;
            loop.quit();
        });
        QTimer::singleShot(60000, &loop, &QEventLoop::quit);
        w->setPendingInputs({input});
        w->openFile(model);
        loop.exec();
        w->close();
        delete w;
        QCoreApplication::processEvents(); // the deferred deletes of the closed window
        if (!finished) {
            std::fprintf(stderr, "round %d did not finish within a minute\n", i);
            return 1;
        }
        if (i % 10 == 0) {
            const double rss = rssMiB(), inUse = heapInUseMiB();
            std::printf("after %3d rounds (open, run, close): RSS %.1f MiB, heap in use %.2f MiB\n", i, rss,
                        inUse);
            std::fflush(stdout);
            if (i > 10) {
                xs.push_back(i);
                ys.push_back(rss);
                heap.push_back(inUse);
            }
        }
    }
    std::printf(
        "fitted after the first ten rounds: %+.2f MiB per 10 rounds; heap in use %+.3f MiB per 10 rounds\n",
        10 * slope(xs, ys), 10 * slope(xs, heap));
    return 0;
}
