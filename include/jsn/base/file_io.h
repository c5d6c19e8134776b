// File I/O every part may need, in one place: reading a small file whole, and replacing one
// atomically, as root, in a directory someone else might have planted files in. Each takes a
// path, or (the *At forms) a name in a directory the caller holds open, so that a directory
// checked once through its descriptor is the one used. The caller owns the buffers and the
// descriptors; nothing is allocated.
#pragma once

#include <fcntl.h>

#include <cstddef>
#include <span>
#include <string_view>

#include "jsn/base/status.h"

namespace jsn {

// Reads the whole regular file at `path` into `buffer`, its size into *length. It never blocks
// and never takes a terminal: the file is opened O_NONBLOCK|O_NOCTTY and anything but a regular
// file (a FIFO, a socket, a device planted where a file should be) is refused before a read.
// Rules: "file-missing" (ENOENT), "file-unreadable" (another open, fstat or read error, or not a
// regular file), "file-too-large" (more than buffer.size() bytes). Messages name the path.
// ReadSmallFileAt reads `name` in the directory open as `directory` (AT_FDCWD: a path).
Status ReadSmallFileAt(int directory, const char* name, std::span<char> buffer, size_t* length);
inline Status ReadSmallFile(const char* path, std::span<char> buffer, size_t* length) {
  return ReadSmallFileAt(AT_FDCWD, path, buffer, length);
}

// Replaces the file at `path` with `text`, mode 0644, so that a reader sees the old file or the
// new one, never a part, and nothing planted beside it is followed or overwritten: a temporary
// file of an unguessable name (PATH.tmp-16 random hex digits) is created exclusively
// (O_CREAT|O_EXCL|O_NOFOLLOW), written, fsync'ed and renamed over `path`, then the directory is
// fsync'ed (the rename is durable only then). The temporary file is removed on failure.
// Rules: "open-failed", "write-failed", "fsync-failed", "rename-failed".
// With `fixed_temporary` (for a directory only its owner writes) the temporary file is NAME.tmp,
// unlinked first: one left by a run killed before its rename is replaced, never left beside.
// WriteFileAtomicallyAt replaces `name` in the directory open as `directory` (AT_FDCWD: a path,
// whose directory is opened for the fsync), creating, renaming and fsyncing through it.
Status WriteFileAtomicallyAt(int directory, const char* name, std::string_view text,
                             bool fixed_temporary = false);
inline Status WriteFileAtomically(const char* path, std::string_view text,
                                  bool fixed_temporary = false) {
  return WriteFileAtomicallyAt(AT_FDCWD, path, text, fixed_temporary);
}

// Deletes what WriteFileAtomicallyAt(directory, name) leaves when killed between creating its
// temporary file and renaming it: regular files named NAME.tmp-<16 hex digits>, and nothing
// else (no other name, no symlink, no directory). *removed gets how many. Rules: "open-failed"
// (the directory cannot be listed), "unlink-failed".
Status RemoveStaleTemporaries(int directory, const char* name, int* removed);

}  // namespace jsn
