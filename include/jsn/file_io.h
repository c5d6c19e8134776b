// File I/O every part may need, in one place: reading a small file whole, and replacing one
// atomically, as root, in a directory someone else might have planted files in. The caller owns
// the buffers; nothing is allocated.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "jsn/status.h"

namespace jsn {

// Reads the whole regular file at `path` into `buffer`, its size into *length. It never blocks
// and never takes a terminal: the file is opened O_NONBLOCK|O_NOCTTY and anything but a regular
// file (a FIFO, a socket, a device planted where a file should be) is refused before a read.
// Rules: "file-missing" (ENOENT), "file-unreadable" (another open, fstat or read error, or not a
// regular file), "file-too-large" (more than buffer.size() bytes). Messages name the path.
Status ReadSmallFile(const char* path, std::span<char> buffer, size_t* length);

// Replaces the file at `path` with `text`, mode 0644, so that a reader sees the old file or the
// new one, never a part, and nothing planted beside it is followed or overwritten: a temporary
// file of an unguessable name (PATH.tmp-16 random hex digits) is created exclusively
// (O_CREAT|O_EXCL|O_NOFOLLOW), written, fsync'ed and renamed over `path`, then the directory is
// fsync'ed (the rename is durable only then). The temporary file is removed on failure.
// Rules: "open-failed", "write-failed", "fsync-failed", "rename-failed".
// With `fixed_temporary` (for a directory only its owner writes) the temporary file is PATH.tmp,
// unlinked first: one left by a run killed before its rename is replaced, never left beside.
Status WriteFileAtomically(const char* path, std::string_view text, bool fixed_temporary = false);

}  // namespace jsn
