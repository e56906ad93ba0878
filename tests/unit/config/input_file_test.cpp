// readInputFile: a FIFO, device or socket in place of an input file is refused at once, never
// read (arch/FAULTS.md, "Attacks on the running binary": `--config FIFO` and
// `kubernetes.kubeconfig: FIFO` blocked forever).
#include "agent/core/input_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "support/temp_dir.h"

namespace aksnode {
namespace {

using ::testing::HasSubstr;

struct InputFileTest : ::testing::Test {
  testing::TempDir dir;
  std::string write(const char* name, const std::string& text) { return dir.write(name, text); }
};

TEST_F(InputFileTest, ReadsARegularFileUpToTheLimit) {
  const auto r = readInputFile(write("f", "abcd"), 4);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.text, "abcd");
  const auto big = readInputFile(write("g", "abcde"), 4);
  EXPECT_EQ(big.status, InputFile::Status::TooLarge);
  EXPECT_TRUE(big.text.empty());
}

TEST_F(InputFileTest, MissingAndDirectory) {
  EXPECT_EQ(readInputFile(dir.file("nope"), 10).status, InputFile::Status::Missing);
  const auto d = readInputFile(dir.path(), 10);
  EXPECT_EQ(d.status, InputFile::Status::NotRegular);
  EXPECT_THAT(d.error, HasSubstr("directory"));
}

// No writer ever opens it: a blocking open(2) would wait forever.
TEST_F(InputFileTest, AFifoWithoutWriterIsRefusedWithoutBlocking) {
  const auto fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto r = readInputFile(fifo, 1 << 20);
  EXPECT_EQ(r.status, InputFile::Status::NotRegular);
  EXPECT_THAT(r.error, HasSubstr("FIFO"));
}

TEST_F(InputFileTest, ACharacterDeviceIsRefusedUnread) {
  const auto r = readInputFile("/dev/zero", 16);
  EXPECT_EQ(r.status, InputFile::Status::NotRegular);
  EXPECT_THAT(r.error, HasSubstr("character device"));
}

TEST_F(InputFileTest, AUnixSocketIsRefused) {
  const auto path = dir.file("sock");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);  // NOLINT
  const auto r = readInputFile(path, 16);
  ::close(fd);
  EXPECT_EQ(r.status, InputFile::Status::NotRegular);
  EXPECT_THAT(r.error, HasSubstr("socket"));
}

}  // namespace
}  // namespace aksnode
