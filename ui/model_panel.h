// The model page: the diagnosis first (and for unusable files the
// explanation and the fix), then what is inside.
#pragma once

#include "item_models.h"

#include "twb/model.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QComboBox;
class QTabWidget;
class QTableView;
class QTreeView;

namespace twbui {

class ModelPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelPanel(QWidget* parent = nullptr);
    void showInfo(const twb::ModelInfo& info);
    void showStateDictReport(const twb::StateDictReport& report, const QString& path);
    QString headline() const;
    QString problemText() const;  // the diagnosis shown for a file that cannot be used; "" otherwise
    bool strictLoading() const;   // load_state_dict(strict=…)
    QString stateDictKey() const; // the checkpoint entry chosen, or "" for the default
    const ModuleTreeModel* treeModel() const { return m_tree; }
    const TensorTableModel* tensorModel() const { return m_tensors; }

signals:
    void loadIntoModelRequested(); // "Load into a TorchScript model…" for a state_dict
    void loadWeightsRequested();   // "Load weights…" for a TorchScript model
    void stripPrefixRequested(const QString& weights, const QString& prefix); // the offered prefix fix
    // "Load Operator Library": the library found for the model's operators, or "" to choose one.
    void loadLibraryRequested(const QString& library);

private:
    QLabel* m_kind;
    QLabel* m_summary;
    QWidget* m_problemBox;
    QLabel* m_problem;
    QPlainTextEdit* m_fix;
    QPlainTextEdit* m_detail;
    QTabWidget* m_tabs;
    QLabel* m_overview;
    QPlainTextEdit* m_methods;
    QTreeView* m_treeView;
    ModuleTreeModel* m_tree;
    QPlainTextEdit* m_code;
    QTableView* m_tensorView;
    TensorTableModel* m_tensors;
    QPushButton* m_loadInto;
    QPushButton* m_loadWeights;
    QCheckBox* m_strict;
    QLabel* m_weightsReport;
    QComboBox* m_keyChoice = nullptr;
    QPushButton* m_stripPrefix = nullptr;
    QPushButton* m_loadLibrary = nullptr;
    QString m_weightsPath, m_offeredPrefix, m_offeredLibrary;
};

} // namespace twbui
