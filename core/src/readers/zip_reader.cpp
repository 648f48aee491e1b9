#include "zip_reader.h"

#include <sys/stat.h>
#include <zip.h>

#include <algorithm>
#include <set>

namespace twb::detail {

struct ZipReader::Impl {
    zip_t* archive = nullptr;
    uint64_t fileBytes = 0;
    // Compressed bytes of the records read so far. Records may not share data: a zip whose central
    // directory points many records at the same compressed bytes (an overlapping zip bomb) would let a
    // small file claim gigabytes, each record within deflate's ratio on its own.
    std::set<std::string> counted;
    uint64_t compressedRead = 0;
};

namespace {
std::string zipErrorText(int code) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return text;
}
} // namespace

ZipReader::ZipReader(const std::string& path)
    : m_impl(std::make_unique<Impl>()) {
    int code = 0;
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0) m_impl->fileBytes = uint64_t(st.st_size);
    m_impl->archive = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (!m_impl->archive) {
        // Some writers leave harmless inconsistencies; retry without the strict check.
        if (code == ZIP_ER_INCONS) m_impl->archive = zip_open(path.c_str(), ZIP_RDONLY, &code);
        if (!m_impl->archive) throw ZipError(zipErrorText(code));
    }
    const zip_int64_t count = zip_get_num_entries(m_impl->archive, 0);
    for (zip_int64_t i = 0; i < count; ++i) {
        const char* name = zip_get_name(m_impl->archive, zip_uint64_t(i), 0);
        if (name) m_names.emplace_back(name);
    }
}

ZipReader::~ZipReader() {
    if (m_impl->archive) zip_discard(m_impl->archive);
}

bool ZipReader::has(const std::string& name) const {
    return zip_name_locate(m_impl->archive, name.c_str(), 0) >= 0;
}

uint64_t ZipReader::size(const std::string& name) const {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(m_impl->archive, name.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        throw ZipError("no record '" + name + "' in the archive");
    // The size is the archive's claim: deflate cannot expand more than about 1032:1, so a bigger claim is a
    // lie.
    if ((st.valid & ZIP_STAT_COMP_SIZE) && st.size > st.comp_size * 1100 + 4096)
        throw ZipError("record '" + name + "' claims " + std::to_string(st.size) + " bytes from " +
                       std::to_string(st.comp_size) + " compressed bytes");
    if ((st.valid & ZIP_STAT_COMP_SIZE) && m_impl->fileBytes && m_impl->counted.insert(name).second) {
        m_impl->compressedRead += st.comp_size;
        if (m_impl->compressedRead > m_impl->fileBytes)
            throw ZipError("the records claim more compressed data (" +
                           std::to_string(m_impl->compressedRead) + " bytes by record '" + name +
                           "') than the archive holds (" + std::to_string(m_impl->fileBytes) +
                           " bytes): records overlap, as in a zip bomb");
    }
    return st.size;
}

void ZipReader::readInto(const std::string& name, void* dst, uint64_t bytes) const {
    if (size(name) < bytes)
        throw ZipError("record '" + name + "' holds " + std::to_string(size(name)) + " bytes, " +
                       std::to_string(bytes) + " expected");
    zip_file_t* file = zip_fopen(m_impl->archive, name.c_str(), 0);
    if (!file) throw ZipError("cannot open record '" + name + "': " + zip_strerror(m_impl->archive));
    uint64_t done = 0;
    auto* out = static_cast<char*>(dst);
    while (done < bytes) {
        const zip_int64_t n = zip_fread(file, out + done, bytes - done);
        if (n <= 0) {
            std::string why = n < 0 ? zip_file_strerror(file) : "unexpected end of data";
            zip_fclose(file);
            throw ZipError("cannot read record '" + name + "': " + why);
        }
        done += uint64_t(n);
    }
    if (bytes == size(name)) {
        // libzip checks the CRC only when a read reaches the end of the record.
        char extra = 0;
        if (zip_fread(file, &extra, 1) < 0) {
            const std::string why = zip_file_strerror(file);
            zip_fclose(file);
            throw ZipError("record '" + name + "' is damaged: " + why);
        }
    }
    zip_fclose(file);
}

void ZipReader::verify() const {
    std::vector<char> buffer(1 << 20);
    for (const auto& name : m_names) {
        zip_file_t* file = zip_fopen(m_impl->archive, name.c_str(), 0);
        if (!file) throw ZipError("cannot open record '" + name + "': " + zip_strerror(m_impl->archive));
        zip_int64_t n = 0;
        while ((n = zip_fread(file, buffer.data(), buffer.size())) > 0) {
        }
        if (n < 0) {
            const std::string why = zip_file_strerror(file);
            zip_fclose(file);
            throw ZipError("record '" + name + "' is damaged: " + why);
        }
        zip_fclose(file);
    }
}

std::string ZipReader::read(const std::string& name, uint64_t maxBytes) const {
    const uint64_t n = size(name);
    if (n > maxBytes)
        throw ZipError("record '" + name + "' is " + std::to_string(n) + " bytes, more than expected");
    std::string data(n, '\0');
    if (n) readInto(name, data.data(), n);
    return data;
}

std::string ZipReader::torchPrefix() const {
    for (const auto& name : m_names) {
        const auto slash = name.find('/');
        if (slash == std::string::npos) continue;
        const std::string rest = name.substr(slash + 1);
        if (rest == "data.pkl" || rest == "version" || rest == "constants.pkl")
            return name.substr(0, slash + 1);
    }
    return {};
}

} // namespace twb::detail
