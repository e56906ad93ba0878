#pragma once
// Shared by the disk unit tests: a FileSystem fake that can fail or hang on demand (TempDir and
// runFor: tests/support).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "agent/core/time_source.h"
#include "probes/disk/file_system.h"
#include "probes/probe.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"

namespace aksnode::disk::testing {

using aksnode::testing::runFor;

// One round of a probe of one target: its result (the test fails unless there is exactly one).
template <class Probe>
ProbeResult onlyResult(boost::asio::io_context& io, Probe& probe) {
  auto results = runFor(io, probe.check());
  EXPECT_TRUE(results && results->size() == 1);
  return results && !results->empty() ? results->front() : ProbeResult{};
}

// A FileSystem whose answers the test sets, which can block any call until release(), and
// which can move a SimulatedTimeSource forward inside a call (slow I/O).
class FakeFileSystem final : public FileSystem {
 public:
  FakeFileSystem() {
    pathInfo_.isDirectory = true;
    pathInfo_.device = 2049;
    pathInfo_.canonicalPath = "/mnt";
    stats_.fragmentSize = 4096;
    stats_.blocks = 1000;
    stats_.blocksAvailable = 500;
    stats_.files = 1000;
    stats_.filesAvailable = 900;
    mountInfo_.text =
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "98 22 8:17 / /mnt rw,relatime shared:40 - ext4 /dev/sdb1 rw\n";
    blockStat_.text = "100 0 800 10 50 0 400 20 0 30 40 0 0 0 0 0 0\n";
    usage_.bytes = 4096;
    usage_.entries = 1;
  }

  // --- what the calls answer -----------------------------------------------------------
  void setPathInfo(PathInfo v) {
    set([&] { pathInfo_ = std::move(v); });
  }
  void setStats(FsStats v) {
    set([&] { stats_ = v; });
  }
  void setWrite(WriteProbeResult v) {
    set([&] { write_ = std::move(v); });
  }
  void setMountInfo(std::string text, int error = 0) {
    set([&] { mountInfo_ = TextFile{error, std::move(text)}; });
  }
  void setBlockStat(std::string text) {
    set([&] { blockStat_.text = std::move(text); });
  }
  void setUsage(UsageResult v) {
    set([&] { usage_ = std::move(v); });
  }
  // The call named `call` ("stat", "statvfs", "write", ...) moves `time` on by `by`.
  void makeSlow(const std::string& call, SimulatedTimeSource& time, std::chrono::nanoseconds by) {
    set([&] {
      slowCall_ = call;
      slowTime_ = &time;
      slowBy_ = by;
    });
  }

  // --- hanging ---------------------------------------------------------------------------
  // The next calls named `call` block until release().
  void hangIn(const std::string& call) {
    set([&] {
      hangIn_ = call;
      released_ = false;
    });
  }
  void release() {
    set([&] {
      released_ = true;
      hangIn_.clear();
    });
    changed_.notify_all();
  }
  // Blocks the test until a call is blocked in the hang (the worker really reached it).
  bool waitUntilBlocked(std::chrono::seconds bound = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] { return blocked_ > 0; });
  }
  // Blocks the test until no call is blocked any more.
  bool waitUntilUnblocked(std::chrono::seconds bound = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] { return blocked_ == 0; });
  }

  // --- what was called --------------------------------------------------------------------
  int calls(const std::string& call) const {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(call);
    return it == counts_.end() ? 0 : it->second;
  }
  std::set<std::thread::id> threads() const {
    std::lock_guard lock(mutex_);
    return threads_;
  }
  std::string lastProbeFile() const {
    std::lock_guard lock(mutex_);
    return lastProbeFile_;
  }

  // --- FileSystem ---------------------------------------------------------------------------
  PathInfo stat(const std::string&) override { return enter("stat", pathInfo_); }
  FsStats statvfs(const std::string&) override { return enter("statvfs", stats_); }
  WriteProbeResult writeProbe(const std::string&, const std::string& fileName,
                              std::size_t) override {
    {
      std::lock_guard lock(mutex_);
      lastProbeFile_ = fileName;
    }
    return enter("write", write_);
  }
  TextFile readMountInfo() override { return enter("mountinfo", mountInfo_); }
  TextFile readBlockDeviceStat(const std::string&) override {
    return enter("blockstat", blockStat_);
  }
  UsageResult directoryUsage(const std::string&, const UsageLimits&) override {
    return enter("walk", usage_);
  }

 private:
  template <class F>
  void set(F f) {
    std::lock_guard lock(mutex_);
    f();
  }

  // Counts the call, hangs or slows it as configured, returns a copy of the configured answer.
  template <class T>
  T enter(const std::string& call, const T& answer) {
    std::unique_lock lock(mutex_);
    ++counts_[call];
    threads_.insert(std::this_thread::get_id());
    if (hangIn_ == call) {
      ++blocked_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return released_; });
      --blocked_;
      changed_.notify_all();
    }
    if (slowCall_ == call && slowTime_ != nullptr) slowTime_->advance(slowBy_);
    return answer;
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  PathInfo pathInfo_;
  FsStats stats_;
  WriteProbeResult write_;
  TextFile mountInfo_;
  TextFile blockStat_;
  UsageResult usage_;
  std::string hangIn_;
  bool released_ = false;
  int blocked_ = 0;
  std::string slowCall_;
  SimulatedTimeSource* slowTime_ = nullptr;
  std::chrono::nanoseconds slowBy_{0};
  std::map<std::string, int> counts_;
  std::set<std::thread::id> threads_;
  std::string lastProbeFile_;
};

}  // namespace aksnode::disk::testing

#include <sys/mount.h>

#include <fstream>

namespace aksnode::disk::testing {

// mount(2) for tests that need a real filesystem boundary; false (and the test skips) where
// the environment does not allow mounting (not root, no CAP_SYS_ADMIN, a restricted container).
class ScopedMount {
 public:
  ScopedMount(const std::string& source, const std::string& target, const char* type,
              unsigned long flags, const char* data)
      : target_(target) {
    mounted_ = ::mount(source.c_str(), target.c_str(), type, flags, data) == 0;
    error_ = mounted_ ? 0 : errno;
  }
  ~ScopedMount() {
    if (mounted_) ::umount2(target_.c_str(), MNT_DETACH);
  }
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;
  bool mounted() const { return mounted_; }
  int error() const { return error_; }

 private:
  std::string target_;
  bool mounted_ = false;
  int error_ = 0;
};

// dir/ro: a read-only bind mount of dir/src, undone at the end of the test. Not mounted() where
// the test may not mount (it skips then); remountError() is the errno of making it read-only.
class ReadOnlyBindMount {
 public:
  explicit ReadOnlyBindMount(const aksnode::testing::TempDir& dir)
      : path_(makeDirectories(dir)), bind_(dir.file("src"), path_, nullptr, MS_BIND, nullptr) {
    if (bind_.mounted() && ::mount(nullptr, path_.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
      remountError_ = errno;
    }
  }
  bool mounted() const { return bind_.mounted(); }
  int error() const { return bind_.error(); }
  int remountError() const { return remountError_; }
  const std::string& path() const { return path_; }

 private:
  static std::string makeDirectories(const aksnode::testing::TempDir& dir) {
    std::filesystem::create_directory(dir.file("src"));
    std::filesystem::create_directory(dir.file("ro"));
    return dir.file("ro");
  }
  std::string path_;
  ScopedMount bind_;
  int remountError_ = 0;
};

inline void writeFile(const std::string& path, std::size_t bytes, char fill = 'x') {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string chunk(std::min<std::size_t>(bytes, 1 << 16), fill);
  while (bytes > 0) {
    std::size_t n = std::min(bytes, chunk.size());
    out.write(chunk.data(), static_cast<std::streamsize>(n));
    bytes -= n;
  }
}

}  // namespace aksnode::disk::testing

#include <sys/wait.h>

namespace aksnode::disk::testing {

// Runs `body` in a child process as an unprivileged user (root's own checks ignore permission
// bits) and returns its exit status, or -1. `body` returns a small number (an errno).
template <class F>
int runUnprivileged(F body) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(254);
    ::_exit(body());
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace aksnode::disk::testing
