// The parts of the code and the directions between them, checked. Each part is a folder in
// src/ and in include/jsn/ (README's Layout), so the rule is one on paths: a file under part N
// includes only files under parts 0..N. This test reads every #include in src/ and include/jsn/
// (subfolders too) and fails when a part includes a part above it, when the tracker reaches a
// socket, D-Bus or process header, or when a file is in no part's folder, so a new file cannot
// dodge the check. The rule is written here and nowhere else. It sits in tests/ itself, not in
// a part's folder: it checks the whole tree.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "support/source_tree.h"

namespace {

namespace fs = std::filesystem;

// Lower to higher: a file may include files of its own part and of the parts before it,
// never of a part after it. A part is a folder, in src/ and in include/jsn/: src/wire/reader.cc
// and include/jsn/wire/reader.h are in wire, src/base/musl/runtime.cc in base.
enum class Part { kBase, kWire, kBus, kSystemd, kDaemon, kCli };
constexpr const char* kPartNames[] = {"base", "wire", "bus", "systemd", "daemon", "cli"};
constexpr size_t kPartCount = sizeof(kPartNames) / sizeof(kPartNames[0]);

const char* PartName(Part part) { return kPartNames[static_cast<size_t>(part)]; }

// The part named by the first folder of `stem` (the path below src/ or include/jsn/, without
// the extension), or false when that folder is no part (or the file is in no folder).
bool PartOfStem(const std::string& stem, Part* part) {
  const size_t slash = stem.find('/');
  if (slash == std::string::npos) return false;
  const std::string folder = stem.substr(0, slash);
  for (size_t i = 0; i < kPartCount; ++i) {
    if (folder == kPartNames[i]) {
      *part = static_cast<Part>(i);
      return true;
    }
  }
  return false;
}

// The tracker makes the daemon's decisions as a plain function of states, hook outcomes and
// `now`, so tests drive it without a bus or a process. Its files, and every header they reach,
// include nothing of wire, bus or systemd and none of these system headers:
constexpr const char* kTrackerStem = "daemon/tracker";
constexpr Part kTrackerForbiddenParts[] = {Part::kWire, Part::kBus, Part::kSystemd};
constexpr const char* kTrackerForbiddenHeaders[] = {
    // sockets and descriptors: opening, polling, waiting on them (how the daemon waits for
    // the bus, its timers and its children)
    "sys/socket.h", "sys/un.h", "netinet/in.h", "arpa/inet.h", "netdb.h", "poll.h", "sys/poll.h",
    "sys/select.h", "sys/epoll.h", "sys/eventfd.h", "sys/signalfd.h", "sys/timerfd.h", "fcntl.h",
    // D-Bus libraries (we speak it ourselves; the tracker not at all)
    "dbus/dbus.h", "systemd/sd-bus.h", "systemd/sd-daemon.h", "gio/gio.h",
    // processes, threads and signals: spawning, waiting, killing, and unistd.h's fork, exec,
    // read, write, close
    "unistd.h", "spawn.h", "sys/wait.h", "signal.h", "csignal", "sys/pidfd.h", "sys/prctl.h",
    "sys/resource.h", "sched.h", "pthread.h", "thread"};

// The folders whose files the rule covers, relative to the source tree.
constexpr const char* kSourceDirs[] = {"src", "include/jsn"};
// What counts as a C++ file there.
constexpr const char* kSourceExtensions[] = {".h", ".hh", ".hpp", ".c", ".cc", ".cpp", ".inc"};

struct Include {
  int line = 0;
  std::string name;     // as written, without the quotes or brackets
  bool quoted = false;  // "name" rather than <name>
  int target = -1;      // the index of the file of the tree it names, or -1
};

struct SourceFile {
  std::string path;  // "src/wire/reader.cc", relative to the source tree, as messages show it
  std::string stem;  // "wire/reader"
  fs::path full;
  std::vector<Include> includes;
};

// The source tree, as support/source_tree.h finds it.
fs::path SourceRoot() { return jsn::testing::SourcePath(""); }

bool IsSourceFile(const fs::path& path) {
  for (const char* extension : kSourceExtensions) {
    if (path.extension() == extension) return true;
  }
  return false;
}

// The `#include` lines of `file`: '#', optional spaces, "include", then "name" or <name>.
std::vector<Include> ReadIncludes(const fs::path& file) {
  std::vector<Include> includes;
  std::ifstream in(file);
  std::string text;
  for (int number = 1; std::getline(in, text); ++number) {
    std::string_view line = text;
    auto skip_spaces = [&line] {
      while (!line.empty() && (line[0] == ' ' || line[0] == '\t')) line.remove_prefix(1);
    };
    skip_spaces();
    if (line.empty() || line[0] != '#') continue;
    line.remove_prefix(1);
    skip_spaces();
    if (line.substr(0, 7) != "include") continue;
    line.remove_prefix(7);
    skip_spaces();
    if (line.empty() || (line[0] != '"' && line[0] != '<')) continue;
    const char close = line[0] == '"' ? '"' : '>';
    const size_t end = line.find(close, 1);
    if (end == std::string_view::npos) continue;
    Include include;
    include.line = number;
    include.name = std::string(line.substr(1, end - 1));
    include.quoted = close == '"';
    includes.push_back(include);
  }
  return includes;
}

// Every C++ file of src/ and include/jsn/ with its includes, each resolved to a file of the
// tree when it names one: a quoted name beside the including file, then any name under
// include/ (the -Iinclude every build passes).
std::vector<SourceFile> ReadTree(const fs::path& root) {
  std::vector<SourceFile> files;
  std::map<std::string, int> index_of;  // lexically normal full path -> index
  for (const char* dir : kSourceDirs) {
    std::error_code error;
    for (fs::recursive_directory_iterator it(root / dir, error), end; !error && it != end;
         it.increment(error)) {
      if (!it->is_regular_file() || !IsSourceFile(it->path())) continue;
      SourceFile file;
      file.full = it->path().lexically_normal();
      file.path = (fs::path(dir) / it->path().lexically_relative(root / dir)).generic_string();
      file.stem = it->path().lexically_relative(root / dir).replace_extension().generic_string();
      file.includes = ReadIncludes(file.full);
      files.push_back(file);
    }
  }
  // In path order, so that problems are listed the same way on every run.
  std::sort(files.begin(), files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
  for (size_t i = 0; i < files.size(); ++i) {
    index_of[files[i].full.generic_string()] = static_cast<int>(i);
  }
  for (SourceFile& file : files) {
    for (Include& include : file.includes) {
      std::vector<fs::path> candidates;
      if (include.quoted) candidates.push_back(file.full.parent_path() / include.name);
      candidates.push_back(root / "include" / include.name);
      for (const fs::path& candidate : candidates) {
        auto found = index_of.find(candidate.lexically_normal().generic_string());
        if (found != index_of.end()) {
          include.target = found->second;
          break;
        }
      }
    }
  }
  return files;
}

// An include as messages show it: jsn/wire/reader.h for "jsn/wire/reader.h", <sys/un.h> for
// <sys/un.h>.
std::string Written(const Include& include) {
  return include.quoted ? include.name : "<" + include.name + ">";
}

std::string Join(const std::vector<std::string>& problems) {
  std::string text;
  for (const std::string& problem : problems) text += "\n  " + problem;
  return text;
}

class IncludeDirections : public testing::Test {
 protected:
  void SetUp() override {
    root_ = SourceRoot();
    files_ = ReadTree(root_);
    ASSERT_TRUE(fs::is_directory(root_ / "src") && fs::is_directory(root_ / "include/jsn"))
        << "no src/ and include/jsn/ under " << root_
        << ": run from the source tree or set JSN_SOURCE_DIR";
    ASSERT_FALSE(files_.empty()) << "no C++ files in src/ or include/jsn/ under " << root_;
  }

  const SourceFile* Find(int index) const { return index < 0 ? nullptr : &files_[index]; }

  fs::path root_;
  std::vector<SourceFile> files_;
};

TEST_F(IncludeDirections, EveryFileIsInAPartFolder) {
  std::vector<std::string> problems;
  std::string folders;
  for (const char* name : kPartNames) folders += std::string(folders.empty() ? "" : ", ") + name;
  for (const SourceFile& file : files_) {
    Part part;
    if (!PartOfStem(file.stem, &part)) {
      problems.push_back(file.path +
                         " is in no part: expected it under src/PART/ or "
                         "include/jsn/PART/, PART one of " +
                         folders);
    }
  }
  EXPECT_TRUE(problems.empty()) << Join(problems);
}

TEST_F(IncludeDirections, NoPartIncludesAPartAboveIt) {
  std::vector<std::string> problems;
  for (const SourceFile& file : files_) {
    Part own;
    const bool own_known = PartOfStem(file.stem, &own);
    for (const Include& include : file.includes) {
      const std::string where = file.path + ":" + std::to_string(include.line) + " includes ";
      const SourceFile* target = Find(include.target);
      if (target == nullptr) {
        // A quoted include is ours by convention; one that names no file of the tree would
        // leave the direction unchecked.
        if (include.quoted) {
          problems.push_back(where + "\"" + include.name +
                             "\", which is no file in src/ or include/jsn/ (system headers "
                             "take <>)");
        }
        continue;
      }
      Part theirs;
      if (!own_known || !PartOfStem(target->stem, &theirs)) continue;  // reported above
      if (theirs > own) {
        problems.push_back(where + Written(include) + ": " + PartName(own) + " may not include " +
                           PartName(theirs));
      }
    }
  }
  EXPECT_TRUE(problems.empty()) << Join(problems);
}

TEST_F(IncludeDirections, TrackerReachesNoSocketDbusOrProcessHeader) {
  // The tracker's own files, then every file of the tree they reach through includes.
  std::vector<int> reached;
  std::map<int, int> reached_from;  // file -> the file that first included it (-1: the tracker's)
  for (size_t i = 0; i < files_.size(); ++i) {
    if (files_[i].stem == kTrackerStem) {
      reached.push_back(static_cast<int>(i));
      reached_from[static_cast<int>(i)] = -1;
    }
  }
  ASSERT_FALSE(reached.empty()) << "no " << kTrackerStem
                                << ".h or .cc in include/jsn/ or src/: update the tracker's rule "
                                   "in tests/include_directions_test.cc";
  // The part the tracker may not include that `target` is in, or nullptr.
  auto forbidden_part = [](const SourceFile& target) -> const char* {
    Part theirs;
    if (!PartOfStem(target.stem, &theirs)) return nullptr;  // reported above
    for (Part forbidden : kTrackerForbiddenParts) {
      if (theirs == forbidden) return PartName(forbidden);
    }
    return nullptr;
  };
  // A file of a forbidden part is reported where it is included, and not followed further.
  for (size_t next = 0; next < reached.size(); ++next) {
    for (const Include& include : files_[reached[next]].includes) {
      if (include.target >= 0 && reached_from.count(include.target) == 0 &&
          forbidden_part(files_[include.target]) == nullptr) {
        reached_from[include.target] = reached[next];
        reached.push_back(include.target);
      }
    }
  }

  std::vector<std::string> problems;
  for (int index : reached) {
    const SourceFile& file = files_[index];
    std::string chain;  // how the tracker reaches a file that is not its own
    for (int from = reached_from[index]; from >= 0; from = reached_from[from]) {
      chain = files_[from].path + (chain.empty() ? "" : " -> ") + chain;
    }
    const std::string reached_through =
        chain.empty() ? "" : " (reached from the tracker through " + chain + ")";
    for (const Include& include : file.includes) {
      const std::string where =
          file.path + ":" + std::to_string(include.line) + reached_through + " includes ";
      if (const SourceFile* target = Find(include.target)) {
        if (const char* part = forbidden_part(*target)) {
          problems.push_back(where + Written(include) + ": the tracker may include nothing of " +
                             part);
        }
        continue;
      }
      for (const char* forbidden : kTrackerForbiddenHeaders) {
        if (!include.quoted && include.name == forbidden) {
          problems.push_back(where + Written(include) +
                             ": the tracker may include no socket, D-Bus or process header");
        }
      }
    }
  }
  EXPECT_TRUE(problems.empty()) << Join(problems);
}

}  // namespace
