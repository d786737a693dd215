// io.cc: the reader is bounded for every kind of input, and --output never
// replaces anything but a regular file. Devices are made by the test itself
// with mknod in a temporary folder (root only; skipped otherwise) — never the
// system's /dev/null.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "io.h"

using namespace netshape;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/netshape-io-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

void put(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
std::string get(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
struct stat lstat_of(const std::string& path) {
  struct stat st{};
  ::lstat(path.c_str(), &st);
  return st;
}
// mknod a character device (major, minor); false when not permitted.
bool make_device(const std::string& path, unsigned major, unsigned minor) {
  return ::mknod(path.c_str(), S_IFCHR | 0666, makedev(major, minor)) == 0;
}

}  // namespace

TEST_CASE("read_bounded: a regular file, whole or cut one byte past the limit") {
  TempDir d;
  put(d / "a.json", "{}");
  std::string error;
  CHECK(read_bounded(d / "a.json", 100, error) == "{}");
  put(d / "big", std::string(1000, 'x'));
  auto t = read_bounded(d / "big", 100, error);
  REQUIRE(t);
  CHECK(t->size() == 101);  // limit + 1: the caller reports "too large"
}

TEST_CASE("read_bounded: a missing file or a directory is an error, not an empty file") {
  TempDir d;
  std::string error;
  CHECK_FALSE(read_bounded(d / "none.json", 100, error));
  CHECK(error.find("No such file") != std::string::npos);
  CHECK_FALSE(read_bounded(d.path, 100, error));
  CHECK(error.find("is a directory") != std::string::npos);
}

TEST_CASE("read_bounded: a FIFO with no writer returns at once instead of blocking in open()") {
  TempDir d;
  REQUIRE(::mkfifo((d / "fifo").c_str(), 0600) == 0);
  std::string error;
  auto start = std::chrono::steady_clock::now();
  auto t = read_bounded(d / "fifo", 100, error);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  REQUIRE(t);
  CHECK(t->empty());
}

TEST_CASE("read_bounded: an endless character device stops one byte past the limit") {
  TempDir d;
  if (!make_device(d / "zero", 1, 5)) {  // the kernel's /dev/zero
    MESSAGE("mknod not permitted: skipped");
    return;
  }
  std::string error;
  auto t = read_bounded(d / "zero", 4096, error);
  REQUIRE(t);
  CHECK(t->size() == 4097);
}

TEST_CASE("write_output: a regular file is replaced whole, keeping its mode") {
  TempDir d;
  put(d / "out.txt", "old");
  ::chmod((d / "out.txt").c_str(), 0640);
  std::string error;
  REQUIRE(write_output(d / "out.txt", "new", error));
  CHECK(get(d / "out.txt") == "new");
  CHECK((lstat_of(d / "out.txt").st_mode & 07777) == 0640);
  REQUIRE(write_output(d / "fresh.txt", "x", error));
  CHECK(get(d / "fresh.txt") == "x");
  // Nothing but the two files: no temporary file left behind.
  CHECK(std::system(("test $(ls -A '" + d.path + "' | wc -l) = 2").c_str()) == 0);
}

TEST_CASE("write_output: a symlink is followed, and stays a symlink") {
  TempDir d;
  put(d / "target.txt", "old");
  REQUIRE(::symlink("target.txt", (d / "link.txt").c_str()) == 0);
  std::string error;
  REQUIRE(write_output(d / "link.txt", "new", error));
  CHECK(S_ISLNK(lstat_of(d / "link.txt").st_mode));
  CHECK(get(d / "target.txt") == "new");
  // A dangling link creates its target.
  REQUIRE(::symlink("later.txt", (d / "dangling").c_str()) == 0);
  REQUIRE(write_output(d / "dangling", "made", error));
  CHECK(S_ISLNK(lstat_of(d / "dangling").st_mode));
  CHECK(get(d / "later.txt") == "made");
}

TEST_CASE("write_output: a character device is written through, never replaced") {
  TempDir d;
  if (!make_device(d / "null", 1, 3) || !make_device(d / "full", 1, 7)) {
    MESSAGE("mknod not permitted: skipped");
    return;
  }
  std::string error;
  CHECK(write_output(d / "null", "table", error));
  CHECK(S_ISCHR(lstat_of(d / "null").st_mode));
  // /dev/full fails every write with ENOSPC: an error, and still a device.
  CHECK_FALSE(write_output(d / "full", "table", error));
  CHECK(error.find("No space left") != std::string::npos);
  CHECK(S_ISCHR(lstat_of(d / "full").st_mode));
}

TEST_CASE("write_output: a FIFO is written through; with no reader it fails at once") {
  TempDir d;
  REQUIRE(::mkfifo((d / "fifo").c_str(), 0600) == 0);
  std::string error;
  CHECK_FALSE(write_output(d / "fifo", "table", error));
  CHECK(error.find("no process is reading") != std::string::npos);
  std::string got;
  std::thread reader([&] { got = get(d / "fifo"); });
  // The reader opens the FIFO soon; retry until it has.
  bool ok = false;
  for (int i = 0; i < 200 && !ok; ++i) {
    ok = write_output(d / "fifo", "table", error);
    if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  reader.join();
  CHECK(ok);
  CHECK(got == "table");
  CHECK(S_ISFIFO(lstat_of(d / "fifo").st_mode));
}

TEST_CASE("check_output_path: the spec itself is refused, by inode, whatever the path") {
  TempDir d;
  put(d / "net.json", "{}");
  REQUIRE(::symlink("net.json", (d / "alias.json").c_str()) == 0);
  REQUIRE(::link((d / "net.json").c_str(), (d / "hard.json").c_str()) == 0);
  std::string error;
  CHECK_FALSE(check_output_path(d / "net.json", d / "net.json", error));
  CHECK(error.find("is the spec being read") != std::string::npos);
  CHECK_FALSE(check_output_path(d / "alias.json", d / "net.json", error));
  CHECK_FALSE(check_output_path(d / "hard.json", d / "net.json", error));
  CHECK_FALSE(check_output_path(d.path, d / "net.json", error));
  CHECK(check_output_path(d / "other.json", d / "net.json", error));
  CHECK(check_output_path("", d / "net.json", error));
  put(d / "x.txt", "");
  CHECK(check_output_path(d / "x.txt", "-", error));
}

TEST_CASE("write_output: SIGTERM while the temporary file is written leaves no temporary file") {
  TempDir d;
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // a large write (and its fsync) keeps the temporary file there long enough to see
    std::string error, data(512u << 20, 'x');
    ::_exit(write_output(d / "out.txt", data, error) ? 0 : 1);
  }
  auto temporary = [&] {
    for (const auto& e : std::filesystem::directory_iterator(d.path))
      if (e.path().filename().string().rfind(".netshape-", 0) == 0) return true;
    return false;
  };
  bool seen = false;
  for (int i = 0; i < 20000 && !seen; ++i) {
    seen = temporary();
    if (!seen) std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  if (seen) ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!seen || !WIFSIGNALED(status)) {
    // The write finished before the signal could land: nothing to observe this time.
    MESSAGE("the write finished before SIGTERM; the file is whole: ", std::filesystem::exists(d / "out.txt"));
    CHECK(std::filesystem::exists(d / "out.txt"));
  } else {
    CHECK(WTERMSIG(status) == SIGTERM);
    CHECK_FALSE(temporary());
    CHECK_FALSE(std::filesystem::exists(d / "out.txt"));
  }
}
