// Icons made once for the application. QPixmapCache keys every scaled pixmap by its icon's serial
// number, so an icon made afresh for each window left that window's pixmaps cached after it closed,
// until the cache's limit: about 15 KB for every window opened.
#pragma once

#include <QIcon>
#include <QStyle>

namespace twbui {

QIcon standardIcon(QStyle::StandardPixmap which); // the application style's
QIcon resourceIcon(const QString& path);          // ":/icons/…"

} // namespace twbui
