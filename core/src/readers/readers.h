// Internal: one reader per tensor file format, and the writers. Each throws
// twb::Error whose message names the file and the cause.
#pragma once

#include "twb/tensor_io.h"
#include "twb/value.h"

#include <cstdint>
#include <string>

namespace twb::detail {

Value readNpy(const std::string& path);
Value readNpyBytes(const std::string& bytes, const std::string& label);
Value readNpz(const std::string& path);
Value readSafetensors(const std::string& path);
Value readTorchSave(const std::string& path);
Value readCsv(const std::string& path, bool forceHeader);
Value readImage(const std::string& path, const ImageOptions& options);

void writeNpy(const std::string& path, const Value& tensor);
void writeTorchSave(const std::string& path, const Value& value);

// Bytes the file holds; throws twb::Error naming the file when it cannot be opened.
uint64_t fileSize(const std::string& path);
// Up to n bytes from the start of the file.
std::string readHead(const std::string& path, std::size_t n);
std::string readWholeFile(const std::string& path, uint64_t maxBytes);
// Writes a temporary file beside `path`, then renames it over `path`: readers see the old file or
// the new one, never half of one. Throws twb::Error naming the file.
void writeFileAtomically(const std::string& path, const std::string& text);

// "dir/model.PT" -> "model.PT", "model", "pt".
std::string baseName(const std::string& path);
std::string stem(const std::string& path);
std::string lowerExtension(const std::string& path);

// Checked product of a shape; throws twb::Error on negative or overflowing dimensions.
int64_t checkedNumel(const std::vector<int64_t>& shape, int64_t elementSize, const std::string& label);

} // namespace twb::detail
