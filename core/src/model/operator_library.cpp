// Operator libraries: read an ELF shared object's needs (DT_NEEDED, undefined symbols) without loading
// it, refuse what cannot work in this process with the reason, and load the rest as
// torch.ops.load_library does.
#include "twb/operator_library.h"

#include "twb/error.h"

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>

namespace twb {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMostBytes = std::uintmax_t(2) << 30; // an operator library is megabytes

// The parts of an ELF64 little-endian shared object the check needs, every offset bounds-checked: a
// hostile file yields a reason, never a read outside it.
struct ElfNeeds {
    std::vector<std::string> needed;
    std::vector<std::string> undefined; // non-weak undefined symbols
};

template <typename T> bool readAt(const std::string& bytes, uint64_t offset, T& out) {
    if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
    std::memcpy(&out, bytes.data() + offset, sizeof(T));
    return true;
}

std::string stringAt(const std::string& bytes, uint64_t tableOffset, uint64_t tableSize, uint64_t index) {
    if (index >= tableSize || tableOffset > bytes.size() || bytes.size() - tableOffset < tableSize) return {};
    const char* start = bytes.data() + tableOffset + index;
    const std::size_t most = std::size_t(tableSize - index);
    return std::string(start, strnlen(start, most));
}

// Empty reason: read; else why it is not a shared object this check can read.
std::string readElf(const std::string& bytes, ElfNeeds& out) {
    Elf64_Ehdr eh{};
    if (!readAt(bytes, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return "it is not an ELF file";
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return "it is not a 64-bit little-endian ELF file";
    if (eh.e_type != ET_DYN) return "it is not a shared library";
    if (eh.e_machine != EM_X86_64 && eh.e_machine != EM_AARCH64) return "it is built for another processor";
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > 65000)
        return "its section table cannot be read";
    std::vector<Elf64_Shdr> sections(eh.e_shnum);
    for (std::size_t i = 0; i < sections.size(); ++i)
        if (!readAt(bytes, eh.e_shoff + i * sizeof(Elf64_Shdr), sections[i]))
            return "its section table is cut short";
    auto linked = [&](const Elf64_Shdr& s, Elf64_Shdr& strings) {
        if (s.sh_link >= sections.size()) return false;
        strings = sections[s.sh_link];
        return strings.sh_type == SHT_STRTAB;
    };
    for (const Elf64_Shdr& s : sections) {
        Elf64_Shdr strings{};
        if (s.sh_type == SHT_DYNAMIC && linked(s, strings)) {
            for (uint64_t at = 0; at + sizeof(Elf64_Dyn) <= s.sh_size; at += sizeof(Elf64_Dyn)) {
                Elf64_Dyn d{};
                if (!readAt(bytes, s.sh_offset + at, d) || d.d_tag == DT_NULL) break;
                if (d.d_tag == DT_NEEDED) {
                    const std::string name =
                        stringAt(bytes, strings.sh_offset, strings.sh_size, d.d_un.d_val);
                    if (!name.empty()) out.needed.push_back(name);
                }
            }
        }
        if (s.sh_type == SHT_DYNSYM && linked(s, strings)) {
            for (uint64_t at = sizeof(Elf64_Sym); at + sizeof(Elf64_Sym) <= s.sh_size;
                 at += sizeof(Elf64_Sym)) {
                Elf64_Sym sym{};
                if (!readAt(bytes, s.sh_offset + at, sym)) break;
                if (sym.st_shndx != SHN_UNDEF || ELF64_ST_BIND(sym.st_info) != STB_GLOBAL) continue;
                std::string name = stringAt(bytes, strings.sh_offset, strings.sh_size, sym.st_name);
                if (!name.empty()) out.undefined.push_back(std::move(name));
            }
        }
    }
    return {};
}

bool startsWith(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

bool isTorchSymbol(const std::string& s) {
    for (const char* p : {"_ZN3c10", "_ZNK3c10", "_ZN2at", "_ZNK2at", "_ZN5torch", "_ZNK5torch", "_ZN6caffe2",
                          "_ZNK6caffe2", "_ZTIN3c10", "_ZTVN3c10", "_ZTIN5torch", "_ZTVN5torch"})
        if (startsWith(s, p)) return true;
    return false;
}

std::string demangled(const std::string& symbol) {
    int status = 0;
    char* text = abi::__cxa_demangle(symbol.c_str(), nullptr, nullptr, &status);
    std::string out = status == 0 && text ? text : symbol;
    std::free(text);
    if (out.size() > 160) out = out.substr(0, 157) + "...";
    return out;
}

bool isPythonSymbol(const std::string& s) {
    return startsWith(s, "Py") || startsWith(s, "_Py");
}

// The file this LibTorch's core library was loaded from.
std::string libtorchFile() {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<const void*>(&at::get_num_threads), &info) && info.dli_fname)
        return info.dli_fname;
    return {};
}

// A library's bytes, to look for strings in; nothing for one too large to read whole (256 MiB).
std::optional<std::string> scannable(const fs::path& file) {
    std::error_code ec;
    if (fs::file_size(file, ec) > (std::uintmax_t(256) << 20) || ec) return std::nullopt;
    std::ifstream in(file, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::mutex& loadedMutex() {
    static std::mutex m;
    return m;
}

std::vector<std::string>& loadedList() {
    static std::vector<std::string> v;
    return v;
}

std::string canonical(const std::string& path) {
    std::error_code ec;
    const fs::path p = fs::weakly_canonical(path, ec);
    return ec ? path : p.string();
}

} // namespace

OperatorLibraryCheck checkOperatorLibrary(const std::string& path) {
    OperatorLibraryCheck c;
    c.path = path;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        c.reason = "there is no such file";
        return c;
    }
    if (!fs::is_regular_file(path, ec)) {
        c.reason = "it is not a file";
        return c;
    }
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec || size > kMostBytes) {
        c.reason = ec ? "its size cannot be read"
                      : "it is larger than any operator library (" + std::to_string(size) + " bytes)";
        return c;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        c.reason = "it cannot be read: " + std::string(std::strerror(errno));
        return c;
    }
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.read(bytes.data(), std::streamsize(size));
    ElfNeeds needs;
    c.reason = readElf(bytes, needs);
    if (!c.reason.empty()) return c;
    c.needed = needs.needed;
    for (const auto& n : needs.needed) {
        if (startsWith(n, "libtorch_python") || startsWith(n, "libpython")) {
            c.reason = "it is built for Python's torch: it needs " + n +
                       ", which a LibTorch program does not have; use the library's build for LibTorch";
            return c;
        }
    }
    int pythonSymbols = 0, missingCount = 0;
    for (const auto& s : needs.undefined) {
        if (isPythonSymbol(s)) {
            ++pythonSymbols;
        } else if (isTorchSymbol(s) && !::dlsym(RTLD_DEFAULT, s.c_str())) {
            ++missingCount;
            if (c.missing.size() < 5) c.missing.push_back(s); // the first few, to quote
        }
    }
    if (pythonSymbols > 0) {
        c.reason = "it is a Python extension: it calls " + std::to_string(pythonSymbols) +
                   " functions of the Python interpreter, which a LibTorch program does not have";
        return c;
    }
    // LibTorch's own libraries it names that this process has not loaded: another LibTorch's sonames.
    std::vector<std::string> foreign;
    for (const auto& n : needs.needed)
        if ((n.find("torch") != std::string::npos || startsWith(n, "libc10")) &&
            !::dlopen(n.c_str(), RTLD_LAZY | RTLD_NOLOAD))
            foreign.push_back(n);
    if (missingCount > 0 || !foreign.empty()) {
        const std::string here = libtorchFile();
        c.reason = "it is built for another LibTorch";
        if (!foreign.empty()) {
            c.reason += ": it needs ";
            for (std::size_t i = 0; i < foreign.size(); ++i)
                c.reason += (i == 0 ? "" : i + 1 == foreign.size() ? " and " : ", ") + foreign[i];
            c.reason += ", which " + std::string(foreign.size() == 1 ? "is" : "are") + " not this LibTorch's";
        }
        if (missingCount > 0)
            c.reason += std::string(foreign.empty() ? ": " : "; ") + std::to_string(missingCount) +
                        " of the LibTorch functions it calls are not in this one, such as " +
                        demangled(c.missing.front());
        c.reason += " (this is LibTorch " TORCH_VERSION + (here.empty() ? std::string() : ", " + here) + ")";
        return c;
    }
    c.ok = true;
    return c;
}

void loadOperatorLibrary(const std::string& path) {
    const std::string file = canonical(path);
    std::lock_guard<std::mutex> lock(loadedMutex());
    auto& loaded = loadedList();
    if (std::find(loaded.begin(), loaded.end(), file) != loaded.end()) return;
    const OperatorLibraryCheck c = checkOperatorLibrary(file);
    if (!c.ok) throw Error("operator library " + path + " cannot be loaded: " + c.reason);
    ::dlerror();
    if (!::dlopen(file.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
        const char* why = ::dlerror();
        throw Error("operator library " + path + " cannot be loaded: " + (why ? why : "dlopen failed"));
    }
    loaded.push_back(file);
}

std::vector<std::string> loadedOperatorLibraries() {
    std::lock_guard<std::mutex> lock(loadedMutex());
    return loadedList();
}

std::vector<OperatorLibraryCheck> operatorLibraryCandidates(const std::string& ns,
                                                            const std::vector<std::string>& operators) {
    std::vector<std::string> paths;
    auto add = [&](const fs::path& p) {
        std::error_code ec;
        if (!fs::is_regular_file(p, ec)) return;
        const std::string c = canonical(p.string());
        if (std::find(paths.begin(), paths.end(), c) == paths.end()) paths.push_back(c);
    };
    // A library registers its namespace by name (TORCH_LIBRARY(ns, m) keeps "ns" among its strings).
    auto mentions = [&](const fs::path& file) {
        const std::optional<std::string> bytes = scannable(file);
        return bytes &&
               (bytes->find(ns + '\0') != std::string::npos || bytes->find(ns + "::") != std::string::npos);
    };
    // Shared objects in a folder: all of them (a package's own folder), those whose name mentions the
    // namespace (libtorchvision.so), or, in a folder the user listed, those that register it.
    enum class Pick { Any, ByName, ByNameOrContent };
    auto scan = [&](const fs::path& dir, Pick pick) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) return;
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            const std::string name = entry.path().filename().string();
            if (name.find(".so") == std::string::npos) continue;
            if (pick == Pick::Any || name.find(ns) != std::string::npos ||
                (pick == Pick::ByNameOrContent && mentions(entry.path())))
                add(entry.path());
        }
    };
    if (const char* env = std::getenv("TWB_OPERATOR_LIBRARIES")) {
        std::stringstream list(env);
        std::string item;
        while (std::getline(list, item, ':')) {
            if (item.empty()) continue;
            std::error_code ec;
            if (fs::is_directory(item, ec)) {
                scan(item, Pick::ByNameOrContent);
                scan(fs::path(item) / ns, Pick::Any);
            } else {
                add(item);
            }
        }
    }
    const std::string here = libtorchFile();
    if (!here.empty()) {
        const fs::path lib = fs::path(here).parent_path();
        scan(lib, Pick::ByName);
        // A pip-installed LibTorch is torch/lib inside site-packages; its neighbours are packages.
        scan(lib.parent_path().parent_path() / ns, Pick::ByNameOrContent);
        scan(lib.parent_path().parent_path() / ns / "lib", Pick::ByNameOrContent);
    }
    for (const char* root : {"/usr/lib/python3/dist-packages", "/usr/local/lib/python3/dist-packages"}) {
        scan(fs::path(root) / ns, Pick::ByNameOrContent);
        scan(fs::path(root) / ns / "lib", Pick::ByNameOrContent);
    }
    // A library defines its operators by schema ("nms(Tensor dets, …"): one that names none of those
    // asked for (torchvision's video_reader beside its _C) is not offered.
    auto definesAll = [&](const std::string& file) {
        if (operators.empty()) return true;
        const std::optional<std::string> bytes = scannable(file);
        if (!bytes) return true; // too big to scan: offered
        for (const auto& op : operators)
            if (bytes->find(op + "(") == std::string::npos) return false;
        return true;
    };
    std::vector<OperatorLibraryCheck> out;
    for (const auto& p : paths)
        if (definesAll(p)) out.push_back(checkOperatorLibrary(p));
    // Those that can be loaded first.
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.ok && !b.ok; });
    return out;
}

} // namespace twb
