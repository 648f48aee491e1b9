// QCustomPlot helpers shared by the charts: a time axis in adaptive units,
// palette-aware colours (dark mode included), and PNG/PDF export.
#pragma once

#include <qcustomplot.h>

#include <QColor>
#include <QString>

namespace twbui {

// Ticks on a nanosecond axis labelled in ns, µs, ms or s, whichever reads best for the visible range.
class TimeTicker : public QCPAxisTicker {
protected:
    QString getTickLabel(double tick, const QLocale& locale, QChar formatChar, int precision) override;
};

// The same labels on a logarithmic axis, for configurations that differ tenfold: ticks at 1, 2 and 5 of
// each decade while the range spans a few decades, more within a narrow one (a decade's ticks alone
// would leave one label or none), at decades beyond.
class TimeLogTicker : public QCPAxisTickerLog {
protected:
    QString getTickLabel(double tick, const QLocale& locale, QChar formatChar, int precision) override;
    QVector<double> createTickVector(double tickStep, const QCPRange& range) override;
};

// Whole numbers only (counts), however few there are.
class CountTicker : public QCPAxisTicker {
protected:
    double getTickStep(const QCPRange& range) override;
    QString getTickLabel(double tick, const QLocale& locale, QChar formatChar, int precision) override;
};

// The colour of series i, readable on the current palette.
QColor seriesColor(int i, const QPalette& palette);

// Applies the palette to axes, grid, legend and background, and enables zoom and pan.
void stylePlot(QCustomPlot* plot, const QPalette& palette);

// Asks for a file name and writes the plot as PNG or PDF; returns the path, or "" when cancelled or failed.
QString exportPlot(QCustomPlot* plot, QWidget* parent, const QString& suggestedName);

// Right-click menu with "Export as PNG/PDF…" and "Reset zoom".
void addPlotContextMenu(QCustomPlot* plot, const QString& suggestedName);

} // namespace twbui
