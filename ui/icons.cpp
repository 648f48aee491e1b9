#include "icons.h"

#include <QAction>
#include <QApplication>
#include <QPainter>
#include <QPainterPath>
#include <QPalette>
#include <QPixmap>

#include <functional>
#include <map>

namespace twbui {

namespace {

std::map<QString, QIcon>* g_icons = nullptr;

QIcon sharedIcon(const QString& key, const std::function<QIcon()>& make) {
    if (!g_icons) {
        g_icons = new std::map<QString, QIcon>;
        qAddPostRoutine([] { // with the application, while its pixmaps can still be freed
            delete g_icons;
            g_icons = nullptr;
        });
    }
    auto it = g_icons->find(key);
    if (it == g_icons->end()) it = g_icons->emplace(key, make()).first;
    return it->second;
}

} // namespace

QIcon standardIcon(QStyle::StandardPixmap which) {
    return sharedIcon(QStringLiteral("standard:%1").arg(int(which)),
                      [which] { return QApplication::style()->standardIcon(which); });
}

QIcon resourceIcon(const QString& path) {
    return sharedIcon(path, [path] { return QIcon(path); });
}

void addClearButton(QLineEdit* edit) {
    QAction* clear =
        edit->addAction(standardIcon(QStyle::SP_LineEditClearButton), QLineEdit::TrailingPosition);
    clear->setObjectName(QStringLiteral("clearText"));
    clear->setToolTip(QLineEdit::tr("Clear"));
    clear->setVisible(!edit->text().isEmpty());
    QObject::connect(clear, &QAction::triggered, edit, &QLineEdit::clear);
    QObject::connect(edit, &QLineEdit::textChanged, clear,
                     [clear](const QString& text) { clear->setVisible(!text.isEmpty()); });
}

QIcon glyphIcon(Glyph glyph, const QPalette& palette) {
    const QColor disabled = palette.color(QPalette::Disabled, QPalette::WindowText);
    const QString key = QStringLiteral("glyph:%1:%2").arg(int(glyph)).arg(disabled.name());
    return sharedIcon(key, [glyph, disabled] {
        const auto draw = [glyph](const QColor& colour) {
            QPixmap pm(64, 64);
            pm.fill(Qt::transparent);
            QPainter p(&pm);
            p.setRenderHint(QPainter::Antialiasing);
            p.setPen(QPen(colour.darker(130), 3));
            p.setBrush(colour);
            if (glyph == Glyph::Run) {
                QPainterPath triangle;
                triangle.moveTo(16, 10);
                triangle.lineTo(54, 32);
                triangle.lineTo(16, 54);
                triangle.closeSubpath();
                p.drawPath(triangle);
            } else {
                p.drawRoundedRect(QRectF(14, 14, 36, 36), 4, 4);
            }
            return pm;
        };
        QIcon icon;
        icon.addPixmap(draw(glyph == Glyph::Run ? QColor(46, 160, 67) : QColor(214, 57, 57)), QIcon::Normal);
        icon.addPixmap(draw(disabled), QIcon::Disabled);
        return icon;
    });
}

} // namespace twbui
