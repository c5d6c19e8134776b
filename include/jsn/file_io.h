// File I/O every part may need, in one place: reading a small file whole. The caller owns the
// buffer; nothing is allocated.
#pragma once

#include <cstddef>
#include <span>

#include "jsn/status.h"

namespace jsn {

// Reads the whole regular file at `path` into `buffer`, its size into *length. It never blocks
// and never takes a terminal: the file is opened O_NONBLOCK|O_NOCTTY and anything but a regular
// file (a FIFO, a socket, a device planted where a file should be) is refused before a read.
// Rules: "file-missing" (ENOENT), "file-unreadable" (another open, fstat or read error, or not a
// regular file), "file-too-large" (more than buffer.size() bytes). Messages name the path.
Status ReadSmallFile(const char* path, std::span<char> buffer, size_t* length);

}  // namespace jsn
