// Icons made once for the application. QPixmapCache keys every scaled pixmap by its icon's serial
// number, so an icon made afresh for each window left that window's pixmaps cached after it closed,
// until the cache's limit: about 15 KB for every window opened.
#pragma once

#include <QIcon>
#include <QLineEdit>
#include <QStyle>

namespace twbui {

QIcon standardIcon(QStyle::StandardPixmap which); // the application style's
QIcon resourceIcon(const QString& path);          // ":/icons/…"

// The toolbar's own glyphs, drawn rather than taken from the style, whose black pixmaps vanish on a dark
// palette: Run a green triangle, Cancel a red square, both readable on light and dark; disabled, in the
// palette's disabled text colour.
enum class Glyph { Run, Stop };
QIcon glyphIcon(Glyph glyph, const QPalette& palette);

// QLineEdit::setClearButtonEnabled's button with the shared icon: Qt's own asks the style for a new
// icon for every line edit. Shown while there is text; clearing emits textChanged.
void addClearButton(QLineEdit* edit);

} // namespace twbui
