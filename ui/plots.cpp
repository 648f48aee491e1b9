#include "plots.h"

#include "format_text.h"

#include "file_types.h"

#include "twb/stats.h"

#include <QApplication>

#include <QFileDialog>
#include <QMenu>
#include <cmath>
#include <vector>

namespace twbui {

QString TimeTicker::getTickLabel(double tick, const QLocale&, QChar, int) {
    return durationText(tick);
}

QString TimeLogTicker::getTickLabel(double tick, const QLocale&, QChar, int) {
    return durationText(tick);
}

QVector<double> TimeLogTicker::createTickVector(double, const QCPRange& range) {
    QVector<double> ticks;
    if (range.lower <= 0 || range.upper <= range.lower) return ticks;
    const double decades = std::log10(range.upper / range.lower);
    // Enough labels for a narrow range (a box plot of one model's calls spans less than a decade), few
    // enough for a wide one.
    const std::vector<double> steps = decades <= 0.7
                                          ? std::vector<double>{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9}
                                      : decades <= 1.5 ? std::vector<double>{1, 1.5, 2, 3, 4, 5, 7}
                                      : decades <= 3   ? std::vector<double>{1, 2, 5}
                                                       : std::vector<double>{1};
    for (double decade = std::pow(10, std::floor(std::log10(range.lower))); decade <= range.upper;
         decade *= 10)
        for (double m : steps)
            if (m * decade >= range.lower / 1.0001 && m * decade <= range.upper * 1.0001) ticks << m * decade;
    return ticks;
}

double CountTicker::getTickStep(const QCPRange& range) {
    return std::max(1.0, std::ceil(QCPAxisTicker::getTickStep(range)));
}

QString CountTicker::getTickLabel(double tick, const QLocale& locale, QChar, int) {
    return locale.toString(qlonglong(std::llround(tick)));
}

QColor seriesColor(int i, const QPalette& palette) {
    static const QColor light[] = {QColor(31, 119, 180), QColor(255, 127, 14),  QColor(44, 160, 44),
                                   QColor(214, 39, 40),  QColor(148, 103, 189), QColor(140, 86, 75)};
    QColor c = light[i % 6];
    if (palette.color(QPalette::Window).lightness() < 128) c = c.lighter(140); // dark mode
    return c;
}

void stylePlot(QCustomPlot* plot, const QPalette& pal) {
    const QColor fg = pal.color(QPalette::WindowText), bg = pal.color(QPalette::Base);
    QColor grid = fg;
    grid.setAlpha(40);
    plot->setBackground(bg);
    for (QCPAxis* axis : plot->axisRect()->axes()) {
        axis->setBasePen(QPen(fg));
        axis->setTickPen(QPen(fg));
        axis->setSubTickPen(QPen(fg));
        axis->setTickLabelColor(fg);
        axis->setLabelColor(fg);
        axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
    }
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i)
        if (auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->elementAt(i)))
            title->setTextColor(fg);
    plot->legend->setBrush(QBrush(bg));
    plot->legend->setTextColor(fg);
    plot->legend->setBorderPen(QPen(grid));
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables);
    plot->setNoAntialiasingOnDrag(true);
}

QString exportPlot(QCustomPlot* plot, QWidget* parent, const QString& suggestedName) {
    const QString path =
        QFileDialog::getSaveFileName(parent, QObject::tr("Export chart"), dialogPath(suggestedName + ".png"),
                                     QObject::tr("PNG image (*.png);;PDF document (*.pdf)"));
    if (path.isEmpty()) return {};
    const bool ok =
        path.endsWith(".pdf", Qt::CaseInsensitive) ? plot->savePdf(path) : plot->savePng(path, 0, 0, 2.0);
    return ok ? path : QString();
}

void addPlotContextMenu(QCustomPlot* plot, const QString& suggestedName) {
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(
        plot, &QWidget::customContextMenuRequested, plot, [plot, suggestedName](const QPoint& pos) {
            QMenu menu(plot);
            menu.addAction(QObject::tr("Export as PNG or PDF…"), plot,
                           [plot, suggestedName] { exportPlot(plot, plot->window(), suggestedName); });
            menu.addAction(QObject::tr("Reset zoom"), plot, [plot] {
                plot->rescaleAxes();
                plot->replot(QCustomPlot::rpQueuedReplot);
            });
            menu.exec(plot->mapToGlobal(pos));
        });
}

} // namespace twbui
