#!/bin/sh
# Renders the application icon's PNG sizes for the hicolor theme from the SVG
# (ImageMagick). Run from this folder after editing torch-workbench.svg.
set -eu
for size in 16 24 32 48 64 128 256; do
    convert -background none -density 600 torch-workbench.svg -resize ${size}x${size} torch-workbench-${size}.png
done
