// One row per forward argument: a file or a generator, with a preview and,
// before anything runs, the reason a row does not fit.
#pragma once

#include "snapshots.h"

#include "twb/model.h"

#include <QWidget>

#include <vector>

class QGridLayout;
class QLabel;
class QLineEdit;
class QTimer;

namespace twbui {

class InputsPanel : public QWidget {
    Q_OBJECT
public:
    explicit InputsPanel(QWidget* parent = nullptr);
    void setArguments(const std::vector<twb::ArgumentInfo>& arguments);
    QVector<InputSpec> specs() const;
    void setSource(int row, const QString& source);
    // Into the row of this argument or tuple element ("hc.0"); false when there is none.
    bool setSourceOf(const QString& argument, const QString& source);
    // Puts a dropped file into the first row without a source (or the last row), once the rows holding only
    // the model's suggestions are cleared; returns false without rows.
    bool assignFile(const QString& path);
    // Gives every row without a source the model's own suggestion (or its guess), as torchwb does; returns
    // whether every argument without a default now has a source.
    bool fillSuggestions();
    void showBinding(const BindingSnapshot& binding);
    bool bindingOk() const { return m_ok; }
    QString bindingError() const;
    // Emits a pending sourcesChanged now (before a run), so the run uses what the rows say; false when
    // none was pending.
    bool flush();

signals:
    void sourcesChanged(); // debounced

private:
    // One argument's row (or a tuple element's, indented under its tuple).
    void addRow(const twb::ArgumentInfo& a, const QString& placeholder, bool element = false);
    struct Row {
        QString argument, type;
        QString suggested;  // gen:SPEC, where the model suggests one or guesses
        bool needed = true; // no default, and not a tuple given by its elements
        QLineEdit* source = nullptr;
        QLabel* preview = nullptr;
        QLabel* thumbnail = nullptr;
    };
    QGridLayout* m_grid;
    QLabel* m_status;
    QTimer* m_debounce;
    std::vector<Row> m_rows;
    std::vector<QWidget*> m_widgets;
    bool m_ok = false;
};

} // namespace twbui
