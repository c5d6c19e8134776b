#include "jsn/base/sha256.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace jsn {
namespace {

std::string HexOf(std::string_view text) {
  Sha256 hash;
  hash.Update({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  char hex[Sha256::kHexLength + 1];
  hash.FinishHex(hex);
  return hex;
}

// The examples of NIST's "SHA-256" example values (csrc.nist.gov, Examples with Intermediate
// Values) and FIPS 180-2, appendix B.
TEST(Sha256, GivesTheDigestsOfNistsExamples) {
  EXPECT_EQ(HexOf(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexOf("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(HexOf(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingAroundTheBlockBoundaryMatchesOneShotHashing) {
  // 55, 56 and 64 bytes: the length fits the last block, just does not, fills a block
  // (digests from Python's hashlib).
  EXPECT_EQ(HexOf(std::string(55, 'x')),
            "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
  EXPECT_EQ(HexOf(std::string(56, 'x')),
            "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
  EXPECT_EQ(HexOf(std::string(64, 'x')),
            "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
}

TEST(Sha256, PiecesOfAnySizeGiveTheDigestOfTheWhole) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>(i * 7 + 3);
  std::string whole = HexOf(text);
  for (size_t piece : {1u, 3u, 63u, 64u, 65u, 127u, 999u}) {
    Sha256 hash;
    for (size_t at = 0; at < text.size(); at += piece) {
      size_t length = std::min(piece, text.size() - at);
      hash.Update({reinterpret_cast<const uint8_t*>(text.data() + at), length});
    }
    char hex[Sha256::kHexLength + 1];
    hash.FinishHex(hex);
    EXPECT_EQ(hex, whole) << "pieces of " << piece;
  }
}

TEST(Sha256, AFilesDigestIsWhatSha256sumPrints) {
  char path[] = "/tmp/jsn-sha256-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string text(200 * 1024 + 17, '\0');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 31 + i / 977);
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  char hex[Sha256::kHexLength + 1];
  Status status = Sha256OfFile(path, hex);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(hex, HexOf(text));
  testing::CommandResult sha256sum = testing::RunCommand({"sha256sum", path});
  ASSERT_TRUE(sha256sum.succeeded()) << sha256sum.Describe() << ": " << sha256sum.output;
  EXPECT_EQ(sha256sum.output.substr(0, 64), std::string(hex));
  unlink(path);
}

TEST(Sha256, AMissingFileSaysSo) {
  char hex[Sha256::kHexLength + 1];
  Status status = Sha256OfFile("/nonexistent/jsn-sha256", hex);
  EXPECT_EQ(std::string(status.rule()), "open-failed");
  EXPECT_NE(std::string(status.message()).find("/nonexistent/jsn-sha256"), std::string::npos);
}

}  // namespace
}  // namespace jsn
