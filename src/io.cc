#include "io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace netshape {

namespace {

std::string errno_text() { return std::strerror(errno); }

// read() until `limit` + 1 bytes or end of input, retrying on EINTR.
bool read_fd(int fd, std::size_t limit, std::string& text) {
  char buf[1 << 16];
  while (text.size() <= limit) {
    std::size_t want = std::min(sizeof buf, limit + 1 - text.size());
    ssize_t n = ::read(fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

bool write_fd(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// The directory part of a path, for the temporary file beside it.
std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// A device or FIFO: written in place, never renamed over. O_NONBLOCK on the
// open so that a FIFO nobody reads fails at once (ENXIO) instead of hanging.
bool write_through(const std::string& path, const std::string& data, std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = errno == ENXIO ? fmt::format("cannot write `{}`: no process is reading from it", path)
                           : fmt::format("cannot write `{}`: {}", path, errno_text());
    return false;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  bool ok = write_fd(fd, data);
  int saved = errno;
  if (::close(fd) != 0 && ok) { ok = false; saved = errno; }
  if (!ok) error = fmt::format("cannot write `{}`: {}", path, std::strerror(saved));
  return ok;
}

// A regular file or a new path: a temporary file in the same directory, then
// rename(2), which replaces the name atomically. The new file keeps an
// existing file's permission bits.
bool write_atomic(const std::string& path, const std::string& data, std::string& error) {
  std::string tmp = directory_of(path) + "/.netshape-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    error = fmt::format("cannot write `{}`: cannot create a temporary file in `{}`: {}", path,
                        directory_of(path), errno_text());
    return false;
  }
  struct stat st{};
  mode_t mode = 0666 & ~[] { mode_t m = ::umask(0); ::umask(m); return m; }();
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  ::fchmod(fd, mode);
  bool ok = write_fd(fd, data) && ::fsync(fd) == 0;
  int saved = errno;
  if (::close(fd) != 0 && ok) { ok = false; saved = errno; }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) { ok = false; saved = errno; }
  if (!ok) {
    ::unlink(tmp.c_str());
    error = fmt::format("cannot write `{}`: {}", path, std::strerror(saved));
  }
  return ok;
}

}  // namespace

std::optional<std::string> read_bounded(const std::string& path, std::size_t limit,
                                        std::string& error) {
  std::string text;
  if (path == "-") {
    if (!read_fd(STDIN_FILENO, limit, text)) {
      error = fmt::format("cannot read standard input: {}", errno_text());
      return std::nullopt;
    }
    return text;
  }
  // O_NONBLOCK: opening a FIFO that has no writer returns at once rather than
  // waiting for one; reads are blocking again afterwards.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("cannot open `{}`: {}", path, errno_text());
    return std::nullopt;
  }
  struct stat st{};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    error = fmt::format("cannot read `{}`: it is a directory", path);
    return std::nullopt;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  bool ok = read_fd(fd, limit, text);
  int saved = errno;
  ::close(fd);
  if (!ok) {
    error = fmt::format("cannot read `{}`: {}", path, std::strerror(saved));
    return std::nullopt;
  }
  return text;
}

bool check_output_path(const std::string& output, const std::string& input, std::string& error) {
  if (output.empty()) return true;
  struct stat out{};
  if (::stat(output.c_str(), &out) != 0) return true;  // a new file
  if (S_ISDIR(out.st_mode)) {
    error = fmt::format("--output: `{}` is a directory; give a file name", output);
    return false;
  }
  struct stat in{};
  if (input != "-" && S_ISREG(out.st_mode) && ::stat(input.c_str(), &in) == 0 &&
      in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
    error = fmt::format("--output: `{}` is the spec being read (`{}`); writing the result there "
                        "would destroy it — give another file",
                        output, input);
    return false;
  }
  return true;
}

bool write_output(const std::string& path, const std::string& data, std::string& error) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {  // a new path, or a symlink to nowhere
    struct stat l{};
    if (::lstat(path.c_str(), &l) == 0 && S_ISLNK(l.st_mode)) {
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      if (fd < 0 || !write_fd(fd, data) || ::close(fd) != 0) {
        error = fmt::format("cannot write `{}`: {}", path, errno_text());
        return false;
      }
      return true;
    }
    return write_atomic(path, data, error);
  }
  if (S_ISDIR(st.st_mode)) {
    error = fmt::format("cannot write `{}`: it is a directory", path);
    return false;
  }
  if (!S_ISREG(st.st_mode)) return write_through(path, data, error);
  // A regular file, perhaps through symlinks: replace the file they point to,
  // and leave the links in place.
  char* real = ::realpath(path.c_str(), nullptr);
  std::string target = real ? real : path;
  std::free(real);
  return write_atomic(target, data, error);
}

}  // namespace netshape
