#include "io.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>

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

// The temporary file of a write in progress, for the signal handler: a
// fixed buffer, since a handler may only call async-signal-safe functions.
char g_temporary[PATH_MAX + 32];
volatile sig_atomic_t g_have_temporary = 0;

extern "C" void remove_temporary(int sig) {
  if (g_have_temporary) ::unlink(g_temporary);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// While it lives, SIGINT, SIGTERM and SIGHUP remove the temporary file
// before the process ends as the signal says.
class TemporaryGuard {
 public:
  TemporaryGuard() {
    struct sigaction sa{};
    sa.sa_handler = remove_temporary;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
  }
  ~TemporaryGuard() {
    g_have_temporary = 0;
    for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
  }
  TemporaryGuard(const TemporaryGuard&) = delete;
  TemporaryGuard& operator=(const TemporaryGuard&) = delete;

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old_[3];
};

// mkstemp in `dir` with the signals blocked, so that the file exists only
// once the handler knows its name.
int make_temporary(const std::string& dir) {
  std::string tmpl = dir + "/.netshape-XXXXXX";
  if (tmpl.size() >= sizeof g_temporary) {
    errno = ENAMETOOLONG;
    return -1;
  }
  sigset_t all, old;
  sigfillset(&all);
  ::sigprocmask(SIG_BLOCK, &all, &old);
  std::memcpy(g_temporary, tmpl.c_str(), tmpl.size() + 1);
  int fd = ::mkstemp(g_temporary);
  int saved = errno;
  g_have_temporary = fd >= 0;
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return fd;
}

// A regular file or a new path: a temporary file in the same directory, then
// rename(2), which replaces the name atomically. The new file keeps an
// existing file's permission bits, and its owner and group where this
// process may set them (root may; anyone may keep a group they belong to).
bool write_atomic(const std::string& path, const std::string& data, std::string& error) {
  TemporaryGuard guard;
  int fd = make_temporary(directory_of(path));
  if (fd < 0) {
    error = fmt::format("cannot write `{}`: cannot create a temporary file in `{}`: {}", path,
                        directory_of(path), errno_text());
    return false;
  }
  std::string tmp = g_temporary;
  struct stat st{};
  mode_t mode = 0666 & ~[] { mode_t m = ::umask(0); ::umask(m); return m; }();
  if (::stat(path.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
    if (::fchown(fd, st.st_uid, st.st_gid) != 0 && ::fchown(fd, static_cast<uid_t>(-1), st.st_gid) != 0) {
      // Not permitted: the file becomes this user's, as with any save by rename.
    }
  }
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

// The descriptor a path names by itself: /dev/stdin, /dev/stdout,
// /dev/stderr, /dev/fd/N, /proc/self/fd/N (and /proc/<this pid>/fd/N).
std::optional<int> named_descriptor(const std::string& path) {
  if (path == "/dev/stdin") return 0;
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (const std::string& prefix : {std::string("/dev/fd/"), std::string("/proc/self/fd/"),
                                    std::string("/proc/thread-self/fd/"),
                                    fmt::format("/proc/{}/fd/", ::getpid())}) {
    if (path.compare(0, prefix.size(), prefix) != 0) continue;
    std::string n = path.substr(prefix.size());
    if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoi(n);
  }
  return std::nullopt;
}

// The standard stream (1 or 2) whose file `st` is, if it is one.
std::optional<int> standard_stream_of(const struct stat& st) {
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    struct stat s{};
    if (::fstat(fd, &s) == 0 && s.st_dev == st.st_dev && s.st_ino == st.st_ino) return fd;
  }
  return std::nullopt;
}

// Through an open descriptor of this process: stdout's buffers first, so
// that what it already holds comes before.
bool write_descriptor(int fd, const std::string& path, const std::string& data, std::string& error) {
  std::cout.flush();
  std::fflush(stdout);
  if (::fcntl(fd, F_GETFD) < 0) {
    error = fmt::format("cannot write `{}`: descriptor {} is not open", path, fd);
    return false;
  }
  if (!write_fd(fd, data)) {
    error = fmt::format("cannot write `{}`: {}", path, errno_text());
    return false;
  }
  return true;
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
  if (auto fd = named_descriptor(path)) return write_descriptor(*fd, path, data, error);
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0)
    if (auto fd = standard_stream_of(st)) return write_descriptor(*fd, path, data, error);
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

#ifndef __EMSCRIPTEN__
extern "C" char** environ;

// Both pipes read with poll() until both close: a child that fills its
// standard error while we wait on its output (or the other way round) never
// blocks either side.
ChildRun run_child(const std::vector<std::string>& words, std::size_t limit) {
  ChildRun r;
  std::vector<std::string> copy = words;
  std::vector<char*> argv;
  for (auto& w : copy) argv.push_back(w.data());
  argv.push_back(nullptr);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) { r.start_error = errno; return r; }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    r.start_error = errno;
    ::close(out[0]), ::close(out[1]);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  pid_t pid = 0;
  int e = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]), ::close(err[1]);
  if (e != 0) {
    r.start_error = e;
    ::close(out[0]), ::close(err[0]);
    return r;
  }
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  char buf[1 << 16];
  for (int open = 2; open > 0;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (auto& f : fds) {
      if (f.fd < 0 || !(f.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(f.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(f.fd);
        f.fd = -1;
        --open;
        continue;
      }
      auto k = static_cast<std::size_t>(n);
      if (&f == &fds[1]) {
        write_fd(STDERR_FILENO, std::string(buf, k));
        r.err_bytes += k;
      } else if (r.out.size() + k <= limit) {
        r.out.append(buf, k);
      } else {
        r.out_cut = true;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  r.exited = WIFEXITED(status);
  r.code = r.exited ? WEXITSTATUS(status) : 0;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return r;
}
#endif

StandardStreams guard_standard_streams() {
  StandardStreams s;
#ifndef __EMSCRIPTEN__
  for (int fd = 0; fd < 3; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    s.closed[fd] = true;
    int held = ::open(fd == 0 ? "/dev/null" : "/dev/full", fd == 0 ? O_RDONLY : O_WRONLY);
    if (held < 0) held = ::open("/dev/null", O_RDWR);
    if (held >= 0 && held != fd) {  // a lower one was closed too and took it: move it
      ::dup2(held, fd);
      ::close(held);
    }
  }
#endif
  return s;
}

bool flush_standard_output(const StandardStreams& s, std::string& error) {
  errno = 0;
  std::cout.flush();
  bool ok = !std::cout.bad();
  int saved = errno;
  if (std::fflush(stdout) != 0) { ok = false; saved = errno; }
  if (std::ferror(stdout)) ok = false;
  if (ok) return true;
  error = s.closed[1] ? "it is closed" : saved ? std::strerror(saved) : "a write failed";
  return false;
}

}  // namespace netshape
