#include "icons.h"

#include <QApplication>

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

} // namespace twbui
