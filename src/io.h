// io: reading a spec and writing a result without ever hurting the user's
// files. One bounded reader for every kind of input (file, `-`, FIFO,
// character device) and one writer for `--output` that is atomic on regular
// files and writes straight through to anything else (docs/cli.md#output).
#pragma once
#include <cstddef>
#include <optional>
#include <string>

namespace netshape {

// Reads at most `limit` + 1 bytes from `path` ("-": standard input), so a
// caller can tell "too large" from "exactly the limit". A FIFO without a
// writer or /dev/zero never blocks or grows memory past that. nullopt with
// `error` set when it cannot be opened or read (exit code 2).
std::optional<std::string> read_bounded(const std::string& path, std::size_t limit,
                                        std::string& error);

// Whether `output` may be written for a command that reads `input`: refuses
// the input file itself (the same inode, whatever the path says) and
// directories. Empty `output` (stdout) or input "-" always pass for the input check.
bool check_output_path(const std::string& output, const std::string& input, std::string& error);

// Writes `data` to `path`. A regular file (or a new path) is replaced
// atomically: a temporary file beside it, then a rename, so an interrupted run
// never leaves half a file. A symlink is followed to its target. Anything else
// (a character device, a FIFO) is opened and written straight through — never
// replaced. Every short write and close is checked (/dev/full fails here).
bool write_output(const std::string& path, const std::string& data, std::string& error);

}  // namespace netshape
