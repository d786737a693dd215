// io: reading a spec and writing a result without ever hurting the user's
// files. One bounded reader for every kind of input (file, `-`, FIFO,
// character device) and one writer for `--output` that is atomic on regular
// files and writes straight through to anything else (docs/cli.md#output).
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

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
// never leaves half a file (SIGINT, SIGTERM and SIGHUP remove the temporary
// file), and the file keeps its permission bits and, where this process may
// set them, its owner and group. A symlink is followed to its target.
// Anything else (a character device, a FIFO) is opened and written straight
// through — never replaced. A path that names one of this process's own
// streams (`/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`), or
// any path that is the very file standard output or error goes to
// (`-o build.log >> build.log`), is written through that descriptor: renaming
// over it would wipe what the shell's redirection keeps. Every short write
// and close is checked (/dev/full fails here).
bool write_output(const std::string& path, const std::string& data, std::string& error);

// A helper program run to its end (`netshape import`'s python3): its
// standard output kept (up to `limit` bytes, the rest read and dropped), its
// standard error passed through to ours as it comes and counted.
struct ChildRun {
  int start_error = 0;         // errno of a failed start (0: it ran)
  bool exited = false;         // ended by exit(code), else by `signal`
  int code = 0, signal = 0;
  std::string out;
  bool out_cut = false;        // more than `limit` bytes
  std::size_t err_bytes = 0;   // what it said on standard error
};
ChildRun run_child(const std::vector<std::string>& argv, std::size_t limit);

// Standard streams the process was started without (`>&-`): their
// descriptors are held by /dev/null (input) or /dev/full (output) so that no
// file this process opens takes fd 0, 1 or 2, and a write to a closed
// standard output fails instead of landing in that file.
struct StandardStreams {
  bool closed[3] = {false, false, false};
};
StandardStreams guard_standard_streams();

// Flushes std::cout and stdout and says whether everything written reached
// standard output; `error` says why not ("it is closed", "No space left on
// device").
bool flush_standard_output(const StandardStreams& s, std::string& error);

}  // namespace netshape
